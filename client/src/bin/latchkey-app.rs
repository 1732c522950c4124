//! The PWA with every page, fetched when a route outside the first-load
//! module is opened (see the library's documentation).
fn main() {
    latchkey_client::start_full();
}
