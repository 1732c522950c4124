use latchkey_shared::api::Notice;
use yew::prelude::*;

use crate::format::posted;

#[derive(Properties, PartialEq)]
pub struct NoticesProps {
    pub notices: Vec<Notice>,
}

/// "Messages": each notice's title and posted date; it opens to show its
/// body (a native `<details>`, so it works by keyboard and screen reader).
#[component]
pub fn Notices(props: &NoticesProps) -> Html {
    html! {
        <section id="notices" class="card notices" aria-labelledby="notices-heading">
            <h2 id="notices-heading">{ "Messages" }</h2>
            if props.notices.is_empty() {
                <p class="muted">{ "There are no messages." }</p>
            } else {
                <ul class="notice-list">
                    { for props.notices.iter().map(notice_item) }
                </ul>
            }
        </section>
    }
}

/// One notice: a function, not a component, since it has no state (each
/// component costs the first-load module its own copy of Yew's lifecycle).
fn notice_item(n: &Notice) -> Html {
    // Blank lines separate paragraphs; single line breaks are kept by CSS.
    let paragraphs = n
        .body
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| html! { <p>{ p.to_owned() }</p> });
    html! {
        <li class="notice" key={n.id}>
            <details>
                <summary>
                    <span class="notice-title">{ n.title.clone() }</span>
                    <span class="notice-date">{ posted(&n.posted_on) }</span>
                </summary>
                <div class="notice-body">{ for paragraphs }</div>
            </details>
        </li>
    }
}
