// Rendering pages allocates many small, short-lived objects; mimalloc handles that far better than the
// system allocator (bench/NOTES.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    authkit::server::platform::startup::run_from_env().await
}
