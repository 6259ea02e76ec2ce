use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = backoffice::cli::Cli::parse();
    if let Err(e) = backoffice::cli::run(cli).await {
        eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
        std::process::exit(1);
    }
}
