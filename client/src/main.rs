//! The first-load module of the PWA (see the library's documentation).
fn main() {
    latchkey_client::start_front();
}
