//! `eidp admin clients …`: register, list, show, change, rotate the secret of, disable and
//! enable relying parties — the same domain functions as the admin API, with actor `cli`.
//!
//! A change is announced to the servers' client caches through the configured ephemeral
//! store: with Redis the servers see it at once; a server on in-memory state sees a change
//! made here within the cache's few seconds (use the admin API there for "at once").

use clap::{Args, Subcommand};
use serde_json::json;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::oidc::clients::manage::{self, ClientUpdate, Desk};
use crate::oidc::clients::view::{self, ClientView};
use crate::oidc::clients::{self, NewClient, Registry};
use crate::store::{Durable, Profile, SubjectType};

#[derive(Subcommand)]
pub enum Clients {
    /// Register a relying party; prints client_id (and client_secret, once).
    Create(Box<CreateClient>),
    /// Every client (never a secret).
    List {
        #[arg(long)]
        json: bool,
    },
    /// One client (never its secret).
    Show {
        #[arg(long)]
        client_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a client's registration: the same rules as create; going further past the
    /// kind's policy needs --policy-override with the written reason.
    Update(Box<UpdateClient>),
    /// A new client secret, shown once; the old one stops working at once.
    RotateSecret {
        #[arg(long)]
        client_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Refuse the client everywhere and revoke its grants (refresh tokens).
    Disable {
        #[arg(long)]
        client_id: String,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Let a disabled client act again (revoked grants stay revoked).
    Enable {
        #[arg(long)]
        client_id: String,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct UpdateClient {
    #[arg(long)]
    client_id: String,
    #[arg(long)]
    name: Option<String>,
    /// Replaces the list (repeat for several).
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Replaces the list (repeat for several).
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// Comma-separated; replaces the scopes.
    #[arg(long, value_delimiter = ',')]
    scopes: Option<Vec<String>>,
    #[arg(long)]
    min_account_level: Option<i64>,
    /// An acr value, or "" for the kind's.
    #[arg(long)]
    min_acr: Option<String>,
    /// Seconds, or "default" for the kind's.
    #[arg(long)]
    access_token_ttl: Option<String>,
    /// Seconds, or "default" for the kind's.
    #[arg(long)]
    refresh_token_ttl: Option<String>,
    /// A JSON list of purposes (replaces them; a changed text gets a new version).
    #[arg(long)]
    purposes: Option<String>,
    /// A URI, or "" for none.
    #[arg(long)]
    backchannel_logout_uri: Option<String>,
    /// A URI, or "" for none (the pairwise sector may not change).
    #[arg(long)]
    sector_identifier_uri: Option<String>,
    /// The written reason for going further past the kind's policy (audited).
    #[arg(long)]
    policy_override: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct CreateClient {
    #[arg(long)]
    name: String,
    /// portal | bank | hospital | other
    #[arg(long)]
    kind: String,
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// A public client (no secret; PKCE only).
    #[arg(long)]
    public: bool,
    /// client_secret_basic | client_secret_post | private_key_jwt | none
    #[arg(long)]
    auth_method: Option<String>,
    #[arg(long)]
    jwks_uri: Option<String>,
    /// Inline JWK set (JSON) for private_key_jwt.
    #[arg(long)]
    jwks: Option<String>,
    /// Narrows the kind's policy (default: the kind's own, e.g. 2 for a bank).
    #[arg(long)]
    min_account_level: Option<i64>,
    #[arg(long)]
    min_acr: Option<String>,
    /// Comma-separated scopes, within the kind's (default: all the kind allows).
    #[arg(long, value_delimiter = ',')]
    scopes: Option<Vec<String>>,
    /// Seconds; shorter than the kind allows.
    #[arg(long)]
    access_token_ttl: Option<i64>,
    #[arg(long)]
    refresh_token_ttl: Option<i64>,
    /// The client gets the account's own `sub` instead of a pairwise one.
    #[arg(long)]
    public_sub: bool,
    /// A JSON list of the redirect URIs of one sector (clients listing the same document
    /// share pairwise `sub` values); fetched and checked now.
    #[arg(long)]
    sector_identifier_uri: Option<String>,
    /// Go past the kind's policy, with the written reason (recorded and audited).
    #[arg(long)]
    policy_override: Option<String>,
    /// The client's purposes, a JSON list of {"id","text_vi","text_en","required_claims"}:
    /// the consent page states them; claims a purpose does not require are optional.
    #[arg(long)]
    purposes: Option<String>,
    /// OpenID Connect Back-Channel Logout 1.0 endpoint of the client.
    #[arg(long)]
    backchannel_logout_uri: Option<String>,
    /// The client needs `sid` in its logout tokens (they always carry it when known).
    #[arg(long)]
    backchannel_logout_session_required: bool,
    /// `fapi2` (FAPI 2.0: PAR, DPoP, private_key_jwt; a bank's default) or `standard`.
    #[arg(long, value_parser = parse_profile)]
    profile: Option<Profile>,
    /// Comma-separated: authorization_code,refresh_token,client_credentials
    #[arg(long, value_delimiter = ',')]
    grant_types: Option<Vec<String>>,
    /// ES256 (default) | EdDSA | RS256 | PS256
    #[arg(long)]
    id_token_alg: Option<String>,
    #[arg(long)]
    json: bool,
}

/// Run one `clients` command.
pub async fn run(cfg: &Config, db: &dyn Durable, cmd: Clients) -> Result<(), String> {
    let err = |e: clients::RegisterError| e.to_string();
    match cmd {
        Clients::Create(c) => create_client(cfg, db, *c).await,
        Clients::List { json } => {
            let all = view::list(db).await.map_err(err)?;
            if json {
                println!("{}", json!({ "clients": all }));
            }
            for c in all.iter().filter(|_| !json) {
                println!("{}", line(c));
            }
            Ok(())
        }
        Clients::Show { client_id, json } => {
            let c = view::show(db, &client_id).await.map_err(err)?;
            print_view(&c, json);
            Ok(())
        }
        Clients::Update(u) => {
            let (client_id, json) = (u.client_id.clone(), u.json);
            let change = update_of(*u)?;
            let c = manage::update(&desk(&tools(cfg).await?, db), &client_id, &change)
                .await
                .map_err(err)?;
            print_view(&c, json);
            Ok(())
        }
        Clients::RotateSecret { client_id, json } => {
            let (c, secret) = manage::rotate_secret(&desk(&tools(cfg).await?, db), &client_id)
                .await
                .map_err(err)?;
            if json {
                println!("{}", json!({"client": c, "client_secret": secret}));
            } else {
                println!("client_id: {}\nclient_secret: {secret}", c.client_id);
                println!("(shown once; the old secret no longer works)");
            }
            Ok(())
        }
        Clients::Disable {
            client_id,
            reason,
            json,
        } => {
            let (c, revoked) =
                manage::disable(&desk(&tools(cfg).await?, db), &client_id, reason.as_deref())
                    .await
                    .map_err(err)?;
            if json {
                println!("{}", json!({"client": c, "grants_revoked": revoked}));
            } else {
                println!("{} disabled; {revoked} grants revoked", c.client_id);
            }
            Ok(())
        }
        Clients::Enable {
            client_id,
            reason,
            json,
        } => {
            let c = manage::enable(&desk(&tools(cfg).await?, db), &client_id, reason.as_deref())
                .await
                .map_err(err)?;
            print_view(&c, json);
            Ok(())
        }
    }
}

/// What a change needs beyond the database: the key that hashes secrets, the store the
/// servers' caches listen to, and the fetcher for `sector_identifier_uri` documents.
struct Tools {
    kek: crate::crypto::Kek,
    eph: std::sync::Arc<dyn crate::store::Ephemeral>,
    fetcher: std::sync::Arc<dyn crate::oidc::client_auth::Fetcher>,
}

async fn tools(cfg: &Config) -> Result<Tools, String> {
    Ok(Tools {
        kek: crate::app::load_kek_for_admin(cfg).map_err(|e| e.to_string())?,
        eph: crate::app::connect_ephemeral(cfg)
            .await
            .map_err(|e| e.to_string())?,
        fetcher: crate::app::fetcher()?,
    })
}

/// A desk acting as `cli`.
fn desk<'a>(t: &'a Tools, db: &'a dyn Durable) -> Desk<'a> {
    Desk {
        reg: Registry {
            actor: "cli",
            db,
            kek: &t.kek,
            fetcher: t.fetcher.as_ref(),
            now: SystemClock.now(),
        },
        eph: t.eph.as_ref(),
        cache: None,
        officer: None,
        via: None,
        ip: None,
    }
}

fn line(c: &ClientView) -> String {
    let state = if c.disabled { "  [disabled]" } else { "" };
    format!("{}  {}  {}{state}", c.client_id, c.kind, c.name)
}

fn print_view(c: &ClientView, json: bool) {
    match json {
        true => println!("{}", json!(c)),
        false => println!(
            "{}\n  redirect_uris: {}\n  scopes: {}\n  min_account_level: {}, min_acr: {}",
            line(c),
            c.redirect_uris.join(" "),
            c.scopes.join(" "),
            c.min_account_level,
            c.min_acr.as_deref().unwrap_or("(the kind's)"),
        ),
    }
}

/// `""` clears a nullable text.
fn text(v: Option<String>) -> Option<Option<String>> {
    v.map(|s| Some(s).filter(|s| !s.is_empty()))
}

/// Seconds, or `default` for the kind's.
fn seconds(flag: &str, v: Option<String>) -> Result<Option<Option<i64>>, String> {
    match v.as_deref() {
        None => Ok(None),
        Some("default") => Ok(Some(None)),
        Some(n) => n
            .parse()
            .map(|n| Some(Some(n)))
            .map_err(|_| format!("--{flag}: seconds, or default")),
    }
}

fn update_of(u: UpdateClient) -> Result<ClientUpdate, String> {
    let list = |v: Vec<String>| (!v.is_empty()).then_some(v);
    Ok(ClientUpdate {
        name: u.name,
        redirect_uris: list(u.redirect_uris),
        post_logout_redirect_uris: list(u.post_logout_redirect_uris),
        scopes: u.scopes,
        min_account_level: u.min_account_level,
        min_acr: text(u.min_acr),
        access_token_ttl: seconds("access-token-ttl", u.access_token_ttl)?,
        refresh_token_ttl: seconds("refresh-token-ttl", u.refresh_token_ttl)?,
        purposes: match &u.purposes {
            Some(j) => Some(serde_json::from_str(j).map_err(|e| format!("--purposes: {e}"))?),
            None => None,
        },
        backchannel_logout_uri: text(u.backchannel_logout_uri),
        sector_identifier_uri: text(u.sector_identifier_uri),
        policy_override: u.policy_override,
    })
}

async fn create_client(cfg: &Config, db: &dyn Durable, c: CreateClient) -> Result<(), String> {
    let kek = crate::app::load_kek_for_admin(cfg).map_err(|e| e.to_string())?;
    let n = NewClient {
        name: c.name,
        kind: c.kind,
        redirect_uris: c.redirect_uris,
        post_logout_redirect_uris: c.post_logout_redirect_uris,
        public: c.public,
        auth_method: c.auth_method,
        jwks: c.jwks,
        jwks_uri: c.jwks_uri,
        grant_types: c.grant_types,
        id_token_alg: c.id_token_alg,
        scopes: c.scopes,
        min_account_level: c.min_account_level,
        min_acr: c.min_acr,
        access_token_ttl: c.access_token_ttl,
        refresh_token_ttl: c.refresh_token_ttl,
        subject_type: c.public_sub.then_some(SubjectType::Public),
        sector_identifier_uri: c.sector_identifier_uri,
        verified_sector: None,
        policy_override: c.policy_override,
        officer_id: None,
        purposes: match &c.purposes {
            Some(j) => serde_json::from_str(j).map_err(|e| format!("--purposes: {e}"))?,
            None => Vec::new(),
        },
        backchannel_logout_uri: c.backchannel_logout_uri,
        backchannel_logout_session_required: c.backchannel_logout_session_required,
        profile: c.profile,
    };
    let fetcher = crate::app::fetcher()?;
    let to = clients::Registry {
        actor: "cli",
        db,
        kek: &kek,
        fetcher: fetcher.as_ref(),
        now: SystemClock.now(),
    };
    let (rec, secret) = clients::register(&to, &n)
        .await
        .map_err(|e| e.to_string())?;
    if c.json {
        println!(
            "{}",
            json!({"client_id": rec.client_id, "client_secret": secret, "token_endpoint_auth_method": rec.auth_method,
                   "redirect_uris": rec.redirect_uris, "grant_types": rec.grant_types})
        );
    } else {
        println!("client_id: {}", rec.client_id);
        if let Some(s) = secret {
            println!("client_secret: {s}\n(shown once; only a keyed hash is stored)");
        }
    }
    Ok(())
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    Profile::parse(s).ok_or_else(|| "fapi2 or standard".to_string())
}
