#[tokio::main]
async fn main() -> std::process::ExitCode {
    authkit::server::startup::run_from_env().await
}
