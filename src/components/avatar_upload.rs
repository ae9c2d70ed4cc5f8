//! The avatar and its "Change avatar" file input. Hydrated, choosing a file uploads it at once with a
//! progress bar, then "Processing…", then swaps the picture. Without JavaScript it is a multipart form
//! with an "Upload" button that comes back to the profile.

use crate::avatar::{describe_size, AvatarProblem};
use crate::components::alert::{Alert, AlertKind};
use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // only the browser uploads with progress
enum Upload {
    Idle,
    Sending { percent: u8 },
    Processing,
    Failed(String),
}

/// `refused`: the code of a refusal that came back after a form post without JavaScript (`?avatar_error=…`).
#[component]
pub fn AvatarUpload(
    avatar_url: RwSignal<String>,
    #[prop(into)] name: Signal<String>,
    max_bytes: u64,
    refused: Option<String>,
) -> impl IntoView {
    let initial = refused
        .and_then(|code| AvatarProblem::from_code(&code))
        .map(|p| Upload::Failed(p.message().to_owned()))
        .unwrap_or(Upload::Idle);
    let upload = RwSignal::new(initial);
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        browser::start(ev, upload, avatar_url, max_bytes);
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        // Hydrated, the upload already started when the file was chosen.
        ev.prevent_default();
    };
    view! {
        <div class="avatar-block">
            <img class="avatar" src=move || avatar_url.get() alt=move || name.get() width="96" height="96"/>
            <form method="post" action="/api/avatar" enctype="multipart/form-data" class="avatar-form" on:submit=on_submit>
                // The input comes first so its focus can be shown on the label styled as a button (CSS `+`).
                <input
                    id="avatar-input"
                    class="avatar-input"
                    type="file"
                    name="avatar"
                    accept="image/png,image/jpeg,image/webp,image/gif"
                    aria-describedby="avatar-hint"
                    on:change=on_change
                />
                <label for="avatar-input" class="button button-small avatar-label">"Change avatar"</label>
                <p id="avatar-hint" class="field-hint">{format!("PNG, JPEG, WebP or GIF, up to {}.", describe_size(max_bytes))}</p>
                <button type="submit" class="button button-small avatar-submit">"Upload"</button>
            </form>
            <div class="avatar-status" aria-live="polite">
                {move || match upload.get() {
                    Upload::Idle => ().into_any(),
                    Upload::Sending { percent } => view! {
                        <label class="upload-progress">
                            <span>{format!("Uploading… {percent}%")}</span>
                            <progress max="100" value=percent.to_string()>{format!("{percent}%")}</progress>
                        </label>
                    }.into_any(),
                    Upload::Processing => view! { <p class="muted">"Processing…"</p> }.into_any(),
                    Upload::Failed(message) => view! { <Alert kind=AlertKind::Error>{message}</Alert> }.into_any(),
                }}
            </div>
        </div>
    }
}

/// The upload itself, through XMLHttpRequest: the only browser API that reports upload progress.
#[cfg(feature = "hydrate")]
mod browser {
    use super::Upload;
    use crate::avatar::AvatarProblem;
    use leptos::prelude::*;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{FormData, HtmlInputElement, ProgressEvent, XmlHttpRequest};

    const OFFLINE: &str = "We could not reach the server. Check your connection and try again.";

    /// The upload whose outcome the status area shows.
    struct UnderWay {
        request: XmlHttpRequest,
        /// Every byte has gone out: the server has the picture and is processing it.
        sent: Rc<Cell<bool>>,
    }

    thread_local! {
        static UNDER_WAY: RefCell<Option<UnderWay>> = const { RefCell::new(None) };
    }

    /// A new choice, sent or refused, supersedes the upload under way. One still sending is aborted, so
    /// the server never gets the older picture. One already sent is left to finish, because the server
    /// may store it whatever we do: its picture is still shown when it comes, but the status area now
    /// speaks for the newer choice.
    fn supersede_upload_under_way() {
        if let Some(earlier) = UNDER_WAY.take() {
            if !earlier.sent.get() {
                let _ = earlier.request.abort();
            }
        }
    }

    /// Called when `request` ends: true if it was still the upload under way (it no longer is), false if
    /// a newer choice superseded it.
    fn end_if_under_way(request: &XmlHttpRequest) -> bool {
        UNDER_WAY.with_borrow_mut(|under_way| {
            let current = under_way.as_ref().is_some_and(|u| &u.request == request);
            if current {
                *under_way = None;
            }
            current
        })
    }

    pub fn start(ev: leptos::ev::Event, upload: RwSignal<Upload>, avatar_url: RwSignal<String>, max_bytes: u64) {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
        supersede_upload_under_way();
        // The same answer the server would give, without sending megabytes first.
        if file.size() > max_bytes as f64 {
            upload.set(Upload::Failed(AvatarProblem::TooLarge.message().to_owned()));
            input.set_value("");
            return;
        }
        upload.set(Upload::Sending { percent: 0 });
        if send(&file, upload, avatar_url).is_err() {
            upload.set(Upload::Failed(OFFLINE.to_owned()));
        }
        // Choosing the same file again must fire `change` again.
        input.set_value("");
    }

    fn send(
        file: &web_sys::File,
        upload: RwSignal<Upload>,
        avatar_url: RwSignal<String>,
    ) -> Result<(), wasm_bindgen::JsValue> {
        let xhr = XmlHttpRequest::new()?;
        let sent = Rc::new(Cell::new(false));
        UNDER_WAY.set(Some(UnderWay { request: xhr.clone(), sent: sent.clone() }));
        xhr.open_with_async("POST", "/api/avatar", true)?;
        xhr.set_request_header("Accept", "text/plain")?;
        let form = FormData::new()?;
        form.append_with_blob(super::FIELD, file)?;

        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
            if e.length_computable() && e.total() > 0.0 {
                let percent = (e.loaded() / e.total() * 100.0).floor().min(99.0) as u8;
                upload.set(Upload::Sending { percent });
            }
        });
        let on_sent = Closure::<dyn FnMut()>::new(move || {
            sent.set(true);
            upload.set(Upload::Processing);
        });
        let sending = xhr.upload()?;
        sending.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        // The last progress event may come before 100%; the upload's own `load` says it is all sent.
        sending.set_onload(Some(on_sent.as_ref().unchecked_ref()));

        let done = xhr.clone();
        let on_load = Closure::<dyn FnMut()>::new(move || {
            let body = done.response_text().ok().flatten().unwrap_or_default();
            let status = done.status().unwrap_or(0);
            if !end_if_under_way(&done) {
                // Superseded after it was sent: the picture is the server's now, the status is not ours.
                if status == 200 {
                    avatar_url.set(body);
                }
                return;
            }
            match status {
                200 => {
                    avatar_url.set(body);
                    upload.set(Upload::Idle);
                }
                401 => crate::components::alert::leave_if_signed_out(&crate::error::AppError::SessionEnded),
                _ if !body.is_empty() => upload.set(Upload::Failed(body)),
                _ => upload.set(Upload::Failed(AvatarProblem::Failed.message().to_owned())),
            }
        });
        xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
        let failed = xhr.clone();
        let on_error = Closure::<dyn FnMut()>::new(move || {
            if end_if_under_way(&failed) {
                upload.set(Upload::Failed(OFFLINE.to_owned()));
            }
        });
        xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));

        xhr.send_with_opt_form_data(Some(&form))?;
        // The request owns its handlers until it ends; there is one request per chosen file.
        on_progress.forget();
        on_sent.forget();
        on_load.forget();
        on_error.forget();
        Ok(())
    }
}

/// The multipart field the picture travels in.
pub const FIELD: &str = "avatar";
