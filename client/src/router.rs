//! A small history router for the app's handful of routes.
//!
//! yew-router (with gloo-history, route-recognizer and urlencoding) cost the
//! first-load module about 7 KB of brotli for what is, here, one `match` on
//! the path, `pushState` and `popstate`. This keeps the parts the app used:
//! [`Route`], [`Link`], [`use_navigator`] (`push`, `replace`) and a
//! [`Router`] that renders the current route.

use std::rc::Rc;

use latchkey_shared::admin::encode;
use wasm_bindgen::JsValue;
use yew::prelude::*;

use crate::hooks::WindowListener;

#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    /// `/`
    SignIn,
    /// `/m`: the seeds' separate mobile link; here it is the same responsive app.
    Mobile,
    /// `/account`
    Account,
    /// `/console`: the staff console (LRA and administrator).
    Console,
    /// `/enrol`: one-time enrolment with security questions.
    Enrol,
    /// `/manage/:domain`
    Manage { domain: String },
    /// `/manage/:domain/unlock`
    Unlock { domain: String },
    /// `/manage/:domain/forgot`
    Forgot { domain: String },
    /// Anything else.
    NotFound,
}

impl Route {
    /// The route for a path (`location.pathname`: still percent-encoded).
    pub fn recognize(path: &str) -> Route {
        let path = path.split(['?', '#']).next().unwrap_or("");
        let trimmed = path.trim_end_matches('/');
        let segments: Vec<&str> = trimmed.split('/').skip(1).collect();
        match segments.as_slice() {
            [] => Route::SignIn,
            ["m"] => Route::Mobile,
            ["account"] => Route::Account,
            ["console"] => Route::Console,
            ["enrol"] => Route::Enrol,
            ["manage", domain] => {
                decode(domain).map_or(Route::NotFound, |domain| Route::Manage { domain })
            }
            ["manage", domain, "unlock"] => {
                decode(domain).map_or(Route::NotFound, |domain| Route::Unlock { domain })
            }
            ["manage", domain, "forgot"] => {
                decode(domain).map_or(Route::NotFound, |domain| Route::Forgot { domain })
            }
            _ => Route::NotFound,
        }
    }

    pub fn to_path(&self) -> String {
        match self {
            Route::SignIn => "/".into(),
            Route::Mobile => "/m".into(),
            Route::Account => "/account".into(),
            Route::Console => "/console".into(),
            Route::Enrol => "/enrol".into(),
            Route::Manage { domain } => format!("/manage/{}", encode(domain)),
            Route::Unlock { domain } => format!("/manage/{}/unlock", encode(domain)),
            Route::Forgot { domain } => format!("/manage/{}/forgot", encode(domain)),
            Route::NotFound => "/404".into(),
        }
    }
}

/// Percent-decoding of one path segment; `None` for an empty segment or
/// invalid UTF-8 (which then is "not found", not a crash).
fn decode(segment: &str) -> Option<String> {
    if segment.is_empty() {
        return None;
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn current() -> Route {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "/".into());
    Route::recognize(&path)
}

/// Changes the address without a page load; the [`Router`] re-renders.
#[derive(Clone, PartialEq)]
pub struct Navigator {
    set: Callback<Route>,
}

impl Navigator {
    /// A new history entry (Back returns here).
    pub fn push(&self, route: &Route) {
        self.go(route, false);
    }

    /// Replaces the current history entry (for redirects).
    pub fn replace(&self, route: &Route) {
        self.go(route, true);
    }

    fn go(&self, route: &Route, replace: bool) {
        if let Some(window) = web_sys::window() {
            if let Ok(history) = window.history() {
                let url = route.to_path();
                let _ = if replace {
                    history.replace_state_with_url(&JsValue::NULL, "", Some(&url))
                } else {
                    history.push_state_with_url(&JsValue::NULL, "", Some(&url))
                };
            }
            // The new page opens at its top, as after a page load: otherwise
            // it keeps the old page's scroll offset (e.g. the account page
            // opened below its tabs after the long enrolment page).
            window.scroll_to_with_x_and_y(0.0, 0.0);
        }
        self.set.emit(route.clone());
    }
}

#[derive(Clone, PartialEq)]
struct RouterContext {
    route: Rc<Route>,
    navigator: Navigator,
}

/// The navigator, inside a [`Router`] (always, in this app).
#[hook]
pub fn use_navigator() -> Option<Navigator> {
    use_context::<RouterContext>().map(|c| c.navigator)
}

#[derive(Properties)]
pub struct RouterProps {
    /// Renders the page for a route.
    pub render: fn(Route) -> Html,
    #[prop_or_default]
    pub children: Html,
}

impl PartialEq for RouterProps {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::fn_addr_eq(self.render, other.render) && self.children == other.children
    }
}

/// Holds the current route (from the address, Back/Forward and
/// [`Navigator`]), renders `children` (header, banners) and then the page
/// inside `<main>`.
#[component]
pub fn Router(props: &RouterProps) -> Html {
    let route = use_state(|| Rc::new(current()));
    let navigator = {
        let route = route.clone();
        use_memo((), move |_| Navigator {
            set: Callback::from(move |r: Route| route.set(Rc::new(r))),
        })
    };
    {
        let route = route.clone();
        use_effect_with((), move |_| {
            let listener = WindowListener::new("popstate", move |_| route.set(Rc::new(current())));
            move || drop(listener)
        });
    }
    let context = RouterContext {
        route: (*route).clone(),
        navigator: (*navigator).clone(),
    };
    html! {
        <ContextProvider<RouterContext> {context}>
            { props.children.clone() }
            <main id="main" class="container" tabindex="-1">
                { (props.render)((**route).clone()) }
            </main>
        </ContextProvider<RouterContext>>
    }
}

#[derive(Properties, PartialEq)]
pub struct LinkProps {
    pub to: Route,
    #[prop_or_default]
    pub classes: Classes,
    #[prop_or_default]
    pub children: Html,
}

/// An `<a href>` that navigates in the app; a modified click (new tab,
/// new window, download) is left to the browser.
#[component]
pub fn Link(props: &LinkProps) -> Html {
    let navigator = use_navigator();
    let onclick = {
        let to = props.to.clone();
        Callback::from(move |e: MouseEvent| {
            if e.button() != 0 || e.ctrl_key() || e.meta_key() || e.shift_key() || e.alt_key() {
                return;
            }
            if let Some(nav) = &navigator {
                e.prevent_default();
                nav.push(&to);
            }
        })
    };
    html! {
        <a href={props.to.to_path()} class={props.classes.clone()} {onclick}>{ props.children.clone() }</a>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_survives_a_round_trip_through_its_path() {
        let routes = [
            Route::SignIn,
            Route::Mobile,
            Route::Account,
            Route::Console,
            Route::Enrol,
            Route::Manage {
                domain: "clinical".into(),
            },
            Route::Unlock {
                domain: "clinical".into(),
            },
            Route::Forgot {
                domain: "a b/é".into(),
            },
        ];
        for route in routes {
            assert_eq!(
                Route::recognize(&route.to_path()),
                route,
                "{}",
                route.to_path()
            );
        }
    }

    #[test]
    fn trailing_slashes_queries_and_fragments_do_not_change_the_route() {
        assert_eq!(Route::recognize("/account/"), Route::Account);
        assert_eq!(Route::recognize("/m?x=1"), Route::Mobile);
        assert_eq!(
            Route::recognize("/manage/hr/unlock#top"),
            Route::Unlock {
                domain: "hr".into()
            }
        );
        assert_eq!(Route::recognize(""), Route::SignIn);
    }

    #[test]
    fn unknown_or_malformed_paths_are_not_found() {
        assert_eq!(Route::recognize("/nope"), Route::NotFound);
        assert_eq!(Route::recognize("/manage"), Route::NotFound);
        assert_eq!(Route::recognize("/manage//unlock"), Route::NotFound);
        assert_eq!(Route::recognize("/manage/%FF"), Route::NotFound);
        assert_eq!(
            Route::recognize("/manage/%4"),
            Route::Manage {
                domain: "%4".into()
            }
        );
        assert_eq!(Route::recognize("/account/extra"), Route::NotFound);
    }
}
