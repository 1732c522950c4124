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
                    { for props.notices.iter().map(|n| html! { <NoticeItem key={n.id} notice={n.clone()} /> }) }
                </ul>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct NoticeItemProps {
    pub notice: Notice,
}

#[component]
pub fn NoticeItem(props: &NoticeItemProps) -> Html {
    let n = &props.notice;
    // Blank lines separate paragraphs; single line breaks are kept by CSS.
    let paragraphs = n
        .body
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| html! { <p>{ p.to_owned() }</p> });
    html! {
        <li class="notice">
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
