//! The command line: `eidp serve` and the `eidp admin …` provisioning contract (DESIGN.md).
//! Admin commands work on the same configuration and stores as `serve`, without a server.

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::store::Durable;

mod backchannel;
mod clients;
mod identity;
mod insurance;
mod register;

#[derive(Parser)]
#[command(
    name = "eidp",
    version,
    about = "OpenID Connect provider for national electronic identity"
)]
struct Cli {
    /// TOML configuration file (EIDP_* environment variables override it).
    #[arg(long, global = true, env = "EIDP_CONFIG")]
    config: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the provider.
    Serve,
    /// How many password hashes per second this machine computes at the configured Argon2id
    /// parameters, on the hashing pool sign-in uses (the benchmarks' yardstick for sign-in).
    HashRate {
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// Provision accounts, clients and keys.
    Admin {
        #[command(subcommand)]
        what: Box<Admin>,
    },
}

#[derive(Subcommand)]
enum Admin {
    Accounts {
        #[command(subcommand)]
        cmd: Accounts,
    },
    Clients {
        #[command(subcommand)]
        cmd: clients::Clients,
    },
    Keys {
        #[command(subcommand)]
        cmd: Keys,
    },
    /// The population register.
    Citizens {
        #[command(subcommand)]
        cmd: identity::Citizens,
    },
    /// Officers (admin users) and their roles.
    Officers {
        #[command(subcommand)]
        cmd: identity::Officers,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        cmd: identity::Audit,
    },
    /// The health-insurance register and hospitals' look-ups.
    Insurance {
        #[command(subcommand)]
        cmd: insurance::Insurance,
    },
    /// Back-channel logouts to relying parties that did not arrive.
    Backchannel {
        #[command(subcommand)]
        cmd: backchannel::Backchannel,
    },
}

#[derive(Subcommand)]
enum Keys {
    /// Publish a successor signing key now; it signs after the activation delay, and the key
    /// it replaces stays published until the tokens it signed have expired.
    Rotate {
        /// ES256 | EdDSA | RS256 | PS256 | all
        #[arg(long, default_value = "all")]
        alg: String,
        /// Seconds before the new key signs (default: key_activation_delay_secs, 3600).
        #[arg(long)]
        activate_after: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Show the signing keys and their schedule.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum Accounts {
    /// Create an active Level-1 account (creating the register record when absent).
    Create(CreateAccount),
    /// Record an in-person check by an officer: the account becomes Level 2.
    Verify(identity::Verify),
    /// Lock an account with a reason and a written note.
    Lock(identity::Lock),
    /// Unlock an account with a written decision.
    Unlock(identity::Unlock),
}

#[derive(Args)]
struct CreateAccount {
    #[arg(long)]
    id_number: String,
    #[arg(long)]
    phone: String,
    /// Read the password from standard input (first line).
    #[arg(long)]
    password_stdin: bool,
    #[arg(long)]
    full_name: Option<String>,
    /// YYYY-MM-DD
    #[arg(long)]
    birth_date: Option<String>,
    /// male | female
    #[arg(long)]
    sex: Option<String>,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    json: bool,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let cfg = match Config::load(cli.config.as_deref(), |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("eidp: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("eidp: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        match cli.command {
            Command::Serve => serve(cfg).await,
            Command::HashRate { seconds } => {
                let rate = crate::authn::password::hash_rate(seconds).await?;
                println!("{{\"hashes_per_second\":{rate:.1}}}");
                Ok(())
            }
            Command::Admin { what } => admin(cfg, *what).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eidp: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("EIDP_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn serve(cfg: Config) -> Result<(), String> {
    let listen = cfg.listen.clone();
    let demo = cfg.demo;
    let keys_dir = cfg.keys_dir.clone();
    let app = crate::app::build_app(cfg, Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    if demo {
        let d = crate::bootstrap::ensure_demo(&app.provider, &keys_dir).await?;
        println!("{}", crate::bootstrap::instructions(&app.provider, &d));
    }
    tracing::info!(%listen, issuer = %app.provider.issuer(), "eidp listening");
    crate::app::serve(app, listener)
        .await
        .map_err(|e| e.to_string())
}

async fn admin(cfg: Config, what: Admin) -> Result<(), String> {
    let db = crate::app::connect_durable(&cfg)
        .await
        .map_err(|e| e.to_string())?;
    match what {
        Admin::Accounts {
            cmd: Accounts::Create(a),
        } => create_account(db.as_ref(), a).await,
        Admin::Accounts {
            cmd: Accounts::Verify(v),
        } => identity::verify(db.as_ref(), v).await,
        Admin::Accounts {
            cmd: Accounts::Lock(l),
        } => identity::lock(db.as_ref(), l).await,
        Admin::Accounts {
            cmd: Accounts::Unlock(u),
        } => identity::unlock(db.as_ref(), u).await,
        Admin::Citizens { cmd } => identity::citizens(db.as_ref(), cmd).await,
        Admin::Officers { cmd } => {
            let kek = crate::app::load_kek_for_admin(&cfg).map_err(|e| e.to_string())?;
            identity::officers(&kek, db.as_ref(), cmd).await
        }
        Admin::Audit { cmd } => identity::audit(db.as_ref(), cmd).await,
        Admin::Backchannel { cmd } => backchannel::run(db.as_ref(), cmd).await,
        Admin::Insurance { cmd } => insurance::run(db.as_ref(), cmd).await,
        Admin::Clients { cmd } => clients::run(&cfg, db.as_ref(), cmd).await,
        Admin::Keys { cmd } => keys(&cfg, db.as_ref(), cmd).await,
    }
}

fn read_password(from_stdin: bool) -> Result<String, String> {
    if !from_stdin {
        return Err("give the password on standard input with --password-stdin".into());
    }
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| e.to_string())?;
    Ok(s.lines().next().unwrap_or_default().to_string())
}

async fn create_account(db: &dyn Durable, a: CreateAccount) -> Result<(), String> {
    let password = read_password(a.password_stdin)?;
    let input = crate::identity::NewAccount {
        id_number: a.id_number,
        phone: a.phone,
        full_name: a.full_name,
        birth_date: a.birth_date,
        sex: a.sex,
        email: a.email,
    };
    let hash = |p: &str| crate::authn::password::hash(p);
    let (acc, person) =
        crate::identity::create_account(db, &input, &password, hash, SystemClock.now())
            .await
            .map_err(|e| e.to_string())?;
    let event = crate::audit::Event {
        actor: "cli".into(),
        action: crate::audit::actions::ACCOUNT_CREATED,
        subject: Some(acc.sub.to_string()),
        detail: json!({"level": acc.level}),
        ..Default::default()
    };
    crate::audit::record(db, event, SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    if a.json {
        println!(
            "{}",
            json!({"sub": acc.sub, "id_number": acc.id_number, "level": acc.level, "state": acc.state, "full_name": person.full_name})
        );
    } else {
        println!(
            "created Level-{} account for {} (sub {})",
            acc.level, acc.id_number, acc.sub
        );
    }
    Ok(())
}

async fn keys(cfg: &Config, db: &dyn Durable, cmd: Keys) -> Result<(), String> {
    use crate::crypto::keyset::{SUPPORTED_ALGS, alg_name, parse_alg};
    let kek = Arc::new(crate::app::load_kek_for_admin(cfg).map_err(|e| e.to_string())?);
    let service = crate::crypto::KeyService::new(kek);
    let now = SystemClock.now();
    match cmd {
        Keys::Rotate {
            alg,
            activate_after,
            json,
        } => {
            let algs = match alg.as_str() {
                "all" => SUPPORTED_ALGS.to_vec(),
                one => vec![
                    parse_alg(one).ok_or_else(|| format!("--alg: unknown algorithm {one:?}"))?,
                ],
            };
            let activate_at = now
                + activate_after
                    .unwrap_or(cfg.key_activation_delay_secs)
                    .max(0);
            // Old keys stay published while tokens they signed may still be presented.
            let keep = cfg.lifetimes.id_token.max(cfg.lifetimes.access_token) + 300;
            let mut made = Vec::new();
            for a in algs {
                let kid = service
                    .rotate(db, a, now, activate_at, keep)
                    .await
                    .map_err(|e| e.to_string())?;
                made.push(json!({"alg": alg_name(a), "kid": kid, "signs_from": activate_at}));
            }
            if json {
                println!("{}", json!({"rotated": made}));
            } else {
                for m in made {
                    println!(
                        "published {} key {} (signs from {})",
                        m["alg"], m["kid"], m["signs_from"]
                    );
                }
            }
        }
        Keys::List { json } => {
            let rows: Vec<_> = db
                .keys()
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|k| json!({"kid": k.kid, "alg": k.alg, "activate_at": k.activate_at, "retire_at": k.retire_at, "remove_at": k.remove_at}))
                .collect();
            if json {
                println!("{}", json!({"keys": rows}));
            } else {
                for r in rows {
                    println!("{r}");
                }
            }
        }
    }
    Ok(())
}
