//! "All sessions" on the profile: every device the user is signed in on, with a way to sign each out.

use crate::api::sessions::{list_sessions, DeviceList, DeviceSession, EndOtherSessions, EndSession};
use crate::components::alert::{last_error, leave_if_signed_out, Alert, AlertKind};
use crate::components::server_form::ServerForm;
use crate::components::time::RelativeTime;
use crate::error::AppError;
use crate::routes::paths;
use leptos::html;
use leptos::prelude::*;

/// Without JavaScript the "are you sure?" step is a page of its own: `/profile?confirm=sign-out-others`.
pub const CONFIRM_PARAM: &str = "confirm";
pub const CONFIRM_SIGN_OUT_OTHERS: &str = "sign-out-others";

/// Bumped by other parts of the page whose actions end sessions (a password change), so the list reloads.
#[derive(Clone, Copy)]
pub struct SessionsChanged(pub RwSignal<usize>);

/// `initial`: the list as the server read it for the page. `confirming`: the page was opened at the
/// "are you sure?" step.
#[component]
pub fn SessionsList(initial: Result<DeviceList, AppError>, confirming: bool) -> impl IntoView {
    let end_one = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let changed = use_context::<SessionsChanged>().map(|c| c.0);
    let (ended_one, ended_others) = (end_one.version(), end_others.version());
    let sessions = RwSignal::new(initial);
    // After anything that ends sessions, read the list again (not at first: `initial` is fresh).
    let asked_for = StoredValue::new(0u32);
    // A row this list's buttons took away had the focus: it goes to the heading once the list is read
    // again, even if news from elsewhere (`LiveSession`) asked again meanwhile.
    let focus_lost = StoredValue::new(false);
    let heading = NodeRef::<html::H2>::new();
    Effect::watch(
        move || (ended_one.get(), ended_others.get(), changed.map(|c| c.get())),
        move |&(one, others, _), before, _| {
            // Only this list's own buttons take a row, or the confirm step, away with the focus in it.
            let ended_here =
                before.is_none_or(|&(one_before, others_before, _)| (one, others) != (one_before, others_before));
            if ended_here {
                focus_lost.set_value(true);
            }
            asked_for.update_value(|n| *n += 1);
            let this = asked_for.get_value();
            leptos::task::spawn_local(async move {
                let list = list_sessions().await;
                if let Err(e) = &list {
                    leave_if_signed_out(e);
                }
                // Only the latest question's answer is shown.
                if asked_for.get_value() == this {
                    sessions.set(list);
                    if focus_lost.get_value() {
                        focus_lost.set_value(false);
                        request_animation_frame(move || focus_heading_if_focus_lost(heading));
                    }
                }
            });
        },
        false,
    );
    let confirming = RwSignal::new(confirming);
    Effect::new(move |_| {
        if ended_others.get() > 0 {
            confirming.set(false);
        }
    });
    let (end_one_error, end_others_error) = (last_error(end_one), last_error(end_others));
    let error = move || end_one_error.get().or_else(|| end_others_error.get());

    view! {
        <section class="panel" id="sessions" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading" tabindex="-1" node_ref=heading>"All sessions"</h2>
            {move || error().map(|e| view! { <Alert kind=AlertKind::Error>{e.to_string()}</Alert> })}
            {move || match sessions.get() {
                Ok(list) => view! {
                    <ul class="sessions">
                        {list.sessions.iter().cloned().map(|s| view! { <SessionRow session=s now=list.now end_one/> }).collect_view()}
                    </ul>
                    <SignOutOthers others=list.others() confirming end_others/>
                }.into_any(),
                Err(e) => view! { <Alert kind=AlertKind::Error>{e.to_string()}</Alert> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn SessionRow(session: DeviceSession, now: i64, end_one: ServerAction<EndSession>) -> impl IntoView {
    let pending = {
        let (id, ending) = (session.id.clone(), end_one.input());
        Memo::new(move |_| ending.with(|input| input.as_ref().is_some_and(|input| input.id == id)))
    };
    // Screen readers hear which device a button signs out, even when several look alike.
    let button_detail =
        format!(" {}, signed in {}", session.device, crate::time_format::relative(now, session.started_at));
    view! {
        <li class="session" class:session-pending=pending aria-busy=move || pending.get().then_some("true")>
            <div class="session-main">
                <span class="session-device">{session.device.clone()}</span>
                {session.current.then(|| view! { <span class="badge">"This device"</span> })}
            </div>
            <p class="session-meta">
                {session.ip.clone().map(|ip| view! { <span>{ip}</span> " · " })}
                "Signed in " <RelativeTime now at=session.started_at/>
                " · Last active " <RelativeTime now at=session.last_active_at/>
            </p>
            {(!session.current).then(|| view! {
                <ServerForm action=end_one class="session-end" busy=pending>
                    <input type="hidden" name="id" value=session.id.clone()/>
                    <button type="submit" class="button button-small" aria-disabled=move || pending.get().then_some("true")>
                        "Sign out"<span class="visually-hidden">{button_detail}</span>
                    </button>
                </ServerForm>
            })}
        </li>
    }
}

/// "Sign out of all other sessions (N)", then "Are you sure?" once before acting.
#[component]
fn SignOutOthers(
    others: usize,
    confirming: RwSignal<bool>,
    end_others: ServerAction<EndOtherSessions>,
) -> impl IntoView {
    if others == 0 {
        return view! { <p class="muted only-session">"This is your only session."</p> }.into_any();
    }
    let sessions = if others == 1 { "session" } else { "sessions" };
    let confirm_button = NodeRef::<html::Button>::new();
    // Keyboard and screen-reader users land on the question they were just asked.
    Effect::new(move |_| {
        if let Some(button) = confirm_button.get() {
            let _ = button.focus();
        }
    });
    // …and, when they cancel it, back on the button that asked it.
    let (ask_button, cancelled) = (NodeRef::<html::Button>::new(), StoredValue::new(false));
    Effect::new(move |_| {
        if let Some(button) = ask_button.get() {
            if cancelled.get_value() {
                cancelled.set_value(false);
                let _ = button.focus();
            }
        }
    });
    view! {
        <Show
            when=move || confirming.get()
            fallback=move || view! {
                <form
                    method="get"
                    action=paths::PROFILE
                    class="sign-out-others"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        confirming.set(true);
                    }
                >
                    <input type="hidden" name=CONFIRM_PARAM value=CONFIRM_SIGN_OUT_OTHERS/>
                    <button type="submit" class="button" node_ref=ask_button>{format!("Sign out of all other sessions ({others})")}</button>
                </form>
            }
        >
            <div class="confirm" role="group" aria-labelledby="confirm-sign-out-others">
                <p id="confirm-sign-out-others">
                    {format!("Are you sure? This signs out {others} other {sessions}; this device stays signed in.")}
                </p>
                <div class="confirm-actions">
                    <ServerForm action=end_others class="inline-form">
                        <button
                            type="submit"
                            class="button button-danger"
                            node_ref=confirm_button
                            aria-busy=move || end_others.pending().get().then_some("true")
                            aria-disabled=move || end_others.pending().get().then_some("true")
                        >
                            {format!("Yes, sign out {others} other {sessions}")}
                        </button>
                    </ServerForm>
                    <a
                        class="button"
                        href=paths::PROFILE
                        on:click=move |ev| {
                            ev.prevent_default();
                            cancelled.set_value(true);
                            confirming.set(false);
                        }
                    >"Cancel"</a>
                </div>
            </div>
        </Show>
    }
    .into_any()
}

/// After a device was signed out here, its row (or the "are you sure?" step) went away with the focus in
/// it: the focus moves to the list's heading rather than being left on the page's `<body>`, where the
/// next Tab would start again from the top of the page.
fn focus_heading_if_focus_lost(heading: NodeRef<html::H2>) {
    let lost = document().active_element().is_none_or(|focused| focused.tag_name() == "BODY");
    if let (true, Some(heading)) = (lost, heading.get_untracked()) {
        let _ = heading.focus();
    }
}
