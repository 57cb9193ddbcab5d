//! The `cairn` command: the server, its admin commands, and the client
//! (`push`, `gate`, `verify`) that pipelines and developers run.

use anyhow::Context;
use clap::{Parser, Subcommand};
use sqlx::postgres::PgConnectOptions;
use sqlx::PgPool;
use tracing_subscriber::EnvFilter;

use cairn::config::Config;
use cairn::identity::Role;
use cairn_embedded_pg::{EmbeddedOptions, EmbeddedPostgres};

/// Counts the heap once armed: the Rego worker's hard memory limit.
#[global_allocator]
static ALLOCATOR: cairn::memlimit::Limited = cairn::memlimit::Limited;

#[derive(Parser)]
#[command(
    name = "cairn",
    version,
    about = "Software-supply-chain evidence service"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default). Configured by CAIRN_* variables: see the README.
    Serve,
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Import vulnerability advisories into the database a server uses.
    Advisories {
        #[command(subcommand)]
        command: AdvisoriesCommand,
    },
    /// Print the OpenAPI document (committed as openapi/openapi.json).
    Openapi,
    /// Upload evidence files to a Cairn server, each to its endpoint
    /// (kind detected from the content); non-zero exit when any is refused.
    Push(cairn::client::PushArgs),
    /// Ask a Cairn server's deploy gate about a digest: exit 0 allow, 1 deny, 2 error.
    Gate(cairn::client::GateArgs),
    /// Verify a signature bundle for a local file offline, as the server does.
    Verify(cairn::client::VerifyArgs),
    /// Evaluate custom Rego rules for a server (started by the server).
    #[command(hide = true)]
    RegoWorker {
        /// Heap limit in bytes: an allocation past it aborts the process.
        #[arg(long)]
        memory_bytes: usize,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it once.
    Create {
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// admin, maintainer, uploader or viewer.
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
}

#[derive(Subcommand)]
enum AdvisoriesCommand {
    /// Import OSV records (a .json record or array, or an osv.dev `all.zip`),
    /// or with --kev the CISA KEV catalog. One transaction; progress on stderr.
    Import {
        /// The file to import.
        file: std::path::PathBuf,
        /// The file is the CISA Known Exploited Vulnerabilities catalog.
        #[arg(long)]
        kev: bool,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s)
        .ok_or_else(|| format!("{s:?} is not a role: use admin, maintainer, uploader or viewer"))
}

fn main() {
    limit_malloc_arenas();
    let cli = Cli::parse();
    if let Some(Command::RegoWorker { memory_bytes }) = cli.command {
        // No runtime, no logging: read requests, answer, exit at EOF.
        cairn::memlimit::set_limit(memory_bytes);
        let code = match cairn::policies::core::sandbox::serve_worker() {
            Ok(()) => 0,
            Err(_) => 1,
        };
        std::process::exit(code);
    }
    if matches!(
        cli.command,
        Some(Command::Push(_) | Command::Gate(_) | Command::Verify(_))
    ) {
        // The client: no server logging; its exit status is its answer.
        std::process::exit(run_client(cli.command.expect("matched above")));
    }
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("starting the async runtime");
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve().await,
            Command::Token {
                command: TokenCommand::Create { name, role },
            } => create_token(&name, role).await,
            Command::Advisories {
                command: AdvisoriesCommand::Import { file, kev },
            } => import_advisories(&file, kev).await,
            Command::Openapi => {
                print!("{}", cairn::api::openapi_json());
                Ok(())
            }
            Command::RegoWorker { .. }
            | Command::Push(_)
            | Command::Gate(_)
            | Command::Verify(_) => {
                unreachable!("handled before the runtime starts")
            }
        }
    });
    if let Err(e) = result {
        // One clear line: what failed and why.
        eprintln!("cairn: {e:#}");
        std::process::exit(1);
    }
}

fn run_client(command: Command) -> i32 {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("starting the async runtime");
    runtime.block_on(async {
        match command {
            Command::Push(args) => cairn::client::push(args).await,
            Command::Gate(args) => cairn::client::gate(args).await,
            Command::Verify(args) => cairn::client::verify(args).await,
            _ => unreachable!("only client commands"),
        }
    })
}

/// glibc gives each thread that allocates its own arena and keeps freed
/// memory in them: after large uploads the resident size stayed at twice the
/// live heap. Two arenas bound that (figures in docs/performance.md).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; called before any thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn init_logging() {
    let filter = EnvFilter::try_from_env("CAIRN_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let json = std::env::var("CAIRN_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

/// The configured database, or the embedded cluster (returned so the
/// caller can stop it). With `share_running`, an embedded cluster that a
/// running server already owns is used through its socket instead.
async fn open_database(
    config: &Config,
    share_running: bool,
) -> anyhow::Result<(PgPool, Option<EmbeddedPostgres>)> {
    if let Some(url) = &config.database_url {
        let options: PgConnectOptions = url
            .parse()
            .context("CAIRN_DATABASE_URL is not a valid PostgreSQL URL")?;
        let pool = cairn::db::connect(options, config.db_pool_size)
            .await
            .context("cannot connect to CAIRN_DATABASE_URL")?;
        return Ok((pool, None));
    }
    if share_running {
        let socket_dir = config.data_dir.join("run");
        if socket_dir.join(".s.PGSQL.5432").exists() {
            let options = PgConnectOptions::new()
                .socket(&socket_dir)
                .username("cairn")
                .database("cairn");
            if let Ok(pool) = cairn::db::connect(options, 2).await {
                return Ok((pool, None));
            }
        }
    }
    let pg = EmbeddedPostgres::start(&config.data_dir, EmbeddedOptions::default()).await?;
    match cairn::db::connect(pg.connect_options("cairn"), config.db_pool_size).await {
        Ok(pool) => Ok((pool, Some(pg))),
        Err(e) => {
            let _ = pg.stop().await;
            Err(anyhow::Error::new(e).context("cannot connect to the embedded PostgreSQL"))
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let listen = config.listen;
    let (pool, embedded) = open_database(&config, false).await?;
    let result = async {
        let state = cairn::prepare(pool.clone(), config).await?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen} (CAIRN_LISTEN)"))?;
        tracing::info!(address = %listen, "Cairn is serving");
        let workers = cairn::builds::worker::spawn(
            pool.clone(),
            cairn::builds::worker::WorkerOptions::from_config(&state.config),
        );
        let policy_workers =
            cairn::policies::worker::spawn(pool.clone(), policy_worker_options(&state));
        let notify_workers = cairn::notifications::worker::spawn(
            pool.clone(),
            cairn::notifications::worker::WorkerOptions::from_config(
                &state.config,
                state.secret_key.clone(),
            ),
        );
        // The CRA clock: deadlines come closer without any event, so every
        // minute cases are synced and approaching deadlines announced.
        let cra_clock = {
            let pool = pool.clone();
            cairn::workers::spawn(
                "cra-clock",
                1,
                std::time::Duration::from_secs(60),
                move || {
                    let pool = pool.clone();
                    async move { cairn::cra::service::tick(&pool).await }
                },
            )
        };
        let served = cairn::app::serve(
            listener,
            cairn::app::router(state),
            cairn::app::shutdown_signal(),
        )
        .await;
        // Each worker finishes (commits) its current batch, then stops.
        workers.shutdown().await;
        policy_workers.shutdown().await;
        notify_workers.shutdown().await;
        cra_clock.shutdown().await;
        served?;
        anyhow::Ok(())
    }
    .await;
    pool.close().await;
    if let Some(pg) = embedded {
        pg.stop().await?;
        tracing::info!("embedded PostgreSQL stopped");
    }
    result
}

async fn create_token(name: &str, role: Role) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let (pool, embedded) = open_database(&config, true).await?;
    let result = async {
        cairn::db::MIGRATOR.run(&pool).await?;
        cairn::identity::store::create(&pool, name, role)
            .await
            .map_err(anyhow::Error::from)
    }
    .await;
    pool.close().await;
    if let Some(pg) = embedded {
        pg.stop().await?;
    }
    let (id, token) = result?;
    eprintln!(
        "Created {} token {id} {name:?}. Store it now: it is not shown again.",
        role.as_str()
    );
    println!("{token}");
    Ok(())
}

/// `cairn advisories import FILE`: beside a running server (its embedded
/// database is shared through its socket) or against CAIRN_DATABASE_URL.
async fn import_advisories(file: &std::path::Path, kev: bool) -> anyhow::Result<()> {
    use cairn::vulnerabilities::service::{self, Source};
    use std::io::Read;
    let config = Config::from_env()?;
    let mut f =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut magic = [0u8; 4];
    let is_zip = f.read(&mut magic).is_ok_and(|n| n == 4) && &magic == b"PK\x03\x04";
    let (pool, embedded) = open_database(&config, true).await?;
    let result = async {
        cairn::db::MIGRATOR.run(&pool).await?;
        if kev {
            let json = std::fs::read(file)?;
            let r = service::import_kev(&pool, &json).await?;
            eprintln!("KEV catalog {}: {} entries, {} new", r.catalog_version.as_deref().unwrap_or("?"), r.entries, r.added);
            return anyhow::Ok(0);
        }
        let source = if is_zip {
            Source::Zip(Box::new(std::fs::File::open(file)?))
        } else {
            Source::Json(std::fs::read(file)?.into())
        };
        let report = service::import(&pool, source, |n| {
            if n % 10_000 == 0 {
                eprintln!("… {n} records read");
            }
        })
        .await?;
        for e in &report.errors {
            eprintln!(
                "not imported: {}: {}",
                e.id.as_deref().or(e.entry.as_deref()).unwrap_or("(no id)"),
                e.reason
            );
        }
        eprintln!(
            "{} records: {} imported ({} withdrawn), {} unchanged, {} not readable; {} advisories stored",
            report.records, report.imported, report.withdrawn, report.unchanged, report.error_count, report.advisories
        );
        anyhow::Ok(report.error_count)
    }
    .await;
    pool.close().await;
    if let Some(pg) = embedded {
        pg.stop().await?;
    }
    if result? > 0 {
        anyhow::bail!("some records could not be imported (listed above)");
    }
    Ok(())
}

/// The policy workers' options. Test builds (debug assertions) read
/// `CAIRN_TEST_ABORT_EVALUATING=<artifact id>`: the process aborts while
/// evaluating that artifact, as one killed by a stack overflow would, so the
/// poison-pill guard can be tested on the real binary. Release builds never
/// read it.
fn policy_worker_options(state: &cairn::state::AppState) -> cairn::policies::worker::WorkerOptions {
    let mut options = cairn::policies::worker::WorkerOptions::from_config(&state.config);
    options.clock = state.clock.clone();
    #[cfg(debug_assertions)]
    if let Some(id) = std::env::var("CAIRN_TEST_ABORT_EVALUATING")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
    {
        options.fault = Some(std::sync::Arc::new(move |artifact| {
            if artifact == id {
                std::process::abort();
            }
        }));
    }
    options
}
