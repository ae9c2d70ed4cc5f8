//! Integration tests: the real server on a free port, a real SQLite file in a temp folder, mail read from
//! the real outbox, driven over HTTP like a browser with JavaScript off (and like the hydrated app).

mod helpers;

mod activity;
mod assets;
mod dev_mailbox;
mod email_codes;
mod email_flows;
mod guards;
mod headers;
mod live;
mod load_and_faults;
mod login;
mod logout;
mod managed_sessions;
mod new_device_alerts;
mod operator;
mod passkeys;
mod peers;
mod profile;
mod register;
mod scale_out;
mod security;
mod security_audit;
mod sessions;
mod startup;
mod two_factor;
mod your_data;
