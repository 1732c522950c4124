//! The `latchkey` binary; everything lives in the library.

fn main() -> std::process::ExitCode {
    latchkey_server::cli::main()
}
