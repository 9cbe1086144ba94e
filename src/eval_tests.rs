//! The combination order, with layers that decide what they are told and count what they are
//! asked.

use std::cell::Cell;
use std::rc::Rc;

use super::*;
use crate::decision::Reason;

/// A layer with a fixed effect, a dry-run verdict and a header, counting its decisions and how
/// often its request-built reason is formatted.
struct Fixed {
    dialect: Dialect,
    effect: Effect,
    meta: Meta,
    asked: Rc<Cell<usize>>,
    formatted: Rc<Cell<usize>>,
    traced: Rc<Cell<usize>>,
}

/// Formats the request's path, counting.
struct Counted<'a>(&'a Cell<usize>, &'a str);

impl fmt::Display for Counted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.set(self.0.get() + 1);
        f.write_str(self.1)
    }
}

impl Layer for Fixed {
    fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn decide<'a>(&'a self, j: &mut Judge<'a, '_>) -> Verdict<'a> {
        self.asked.set(self.asked.get() + 1);
        if j.tracing() {
            // Dialects do their `explain`-only work (listing every rule) only then.
            self.traced.set(self.traced.get() + 1);
        }
        note!(j, "{} looked", self.dialect);
        j.dry_run(
            Effect::Deny,
            &self.meta,
            None,
            format_args!("{} would deny", self.dialect),
        );
        j.set_header(self.dialect.name(), Cow::Borrowed("set"));
        let path = Counted(&self.formatted, &j.req().path);
        j.verdict_why(
            self.effect,
            &self.meta,
            Some(0),
            format_args!("{} says so for {path}", self.dialect),
        )
    }

    fn plan(&self, _plan: &mut ReadPlan) {}
}

/// How often each layer was asked, and how often its reason was formatted.
struct Counts {
    asked: Vec<Rc<Cell<usize>>>,
    formatted: Vec<Rc<Cell<usize>>>,
    traced: Vec<Rc<Cell<usize>>>,
}

impl Counts {
    fn asked(&self) -> Vec<usize> {
        self.asked.iter().map(|c| c.get()).collect()
    }

    fn formatted(&self) -> Vec<usize> {
        self.formatted.iter().map(|c| c.get()).collect()
    }

    fn traced(&self) -> Vec<usize> {
        self.traced.iter().map(|c| c.get()).collect()
    }
}

fn layers(effects: &[(Dialect, Effect)], mode: Mode) -> (Layers, Counts) {
    let ids = MetaIds::default();
    let mut counts = Counts {
        asked: Vec::new(),
        formatted: Vec::new(),
        traced: Vec::new(),
    };
    let mut list: Vec<Box<dyn Layer>> = Vec::new();
    for &(dialect, effect) in effects {
        let (asked, formatted, traced) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        counts.asked.push(asked.clone());
        counts.formatted.push(formatted.clone());
        counts.traced.push(traced.clone());
        list.push(Box::new(Fixed {
            dialect,
            effect,
            meta: ids.meta(Some(dialect), "Policy", "ns", dialect.name()),
            asked,
            formatted,
            traced,
        }));
    }
    (Layers::new(list, DefaultAction::Deny, mode, &ids), counts)
}

use Dialect::*;
use Effect::*;

#[test]
fn the_first_layer_that_does_not_allow_decides_and_later_layers_are_not_asked() {
    /// (layer effects, deciding dialect, effect, layers asked, dry-run verdicts, headers set)
    type Case<'a> = (&'a [(Dialect, Effect)], Dialect, Effect, &'a [usize], usize, usize);
    let cases: &[Case<'_>] = &[
        (
            &[(Istio, Allow), (Drako, Allow), (Dapr, Allow)],
            Dapr,
            Allow,
            &[1, 1, 1],
            3,
            3,
        ),
        (
            &[(Istio, Allow), (Drako, Deny), (Dapr, Allow)],
            Drako,
            Deny,
            &[1, 1, 0],
            2,
            0,
        ),
        (&[(Istio, Deny), (Drako, Deny)], Istio, Deny, &[1, 0], 1, 0),
        (
            &[(Istio, Allow), (Linkerd, NotFound), (Dapr, Deny)],
            Linkerd,
            NotFound,
            &[1, 1, 0],
            2,
            0,
        ),
        (&[(Dapr, Allow)], Dapr, Allow, &[1], 1, 1),
    ];
    for (effects, by, effect, want_asked, dry, headers) in cases {
        let (ls, counts) = layers(effects, Mode::Enforce);
        let req = Request::new("GET", "/x");
        let d = ls.decide(&req);
        assert_eq!(
            (d.verdict.dialect(), d.verdict.effect),
            (Some(*by), *effect),
            "{effects:?}"
        );
        assert_eq!(counts.asked(), *want_asked, "{effects:?}");
        assert_eq!((d.dry_run.len(), d.set_headers.len()), (*dry, *headers), "{effects:?}");
        assert_eq!(d.allowed(), *effect == Allow);
        assert!(d.enforced);
    }
}

#[test]
fn without_layers_the_bundle_default_decides() {
    for (action, effect) in [(DefaultAction::Deny, Deny), (DefaultAction::Allow, Allow)] {
        let ids = MetaIds::default();
        let ls = Layers::new(Vec::new(), action, Mode::Enforce, &ids);
        let req = Request::new("GET", "/");
        let d = ls.decide(&req);
        assert_eq!((d.verdict.effect, d.verdict.dialect()), (effect, None));
        assert!(d.verdict.meta.is_default());
        assert_eq!(d.verdict.by(), None, "no rule decided");
        assert_eq!(d.verdict.meta.name, effect.name());
        assert!(d.verdict.reason.to_string().contains("defaultAction"));
    }
}

#[test]
fn a_dry_run_bundle_reports_and_forwards() {
    let (ls, _) = layers(&[(Istio, Deny)], Mode::DryRun);
    let req = Request::new("GET", "/");
    let d = ls.decide(&req);
    assert_eq!(d.verdict.effect, Deny);
    assert!(!d.enforced);
    assert!(d.allowed());
}

#[test]
fn reasons_are_formatted_only_when_read_and_say_what_the_trace_says() {
    let (ls, counts) = layers(&[(Istio, Allow), (Drako, Deny)], Mode::Enforce);
    let req = Request::new("GET", "/orders");
    let d = ls.decide(&req);
    assert_eq!(counts.formatted(), [0, 0], "deciding formats nothing");
    assert_eq!(counts.traced(), [0, 0], "deciding is not traced");
    assert_eq!(d.verdict.reason.to_string(), "drako says so for /orders");
    assert_eq!(counts.formatted(), [0, 1], "reading the reason formats it once");
    assert_eq!(counts.traced(), [0, 1], "by deciding again, traced");
    let dry: Vec<String> = d.dry_run.iter().map(|v| v.reason.to_string()).collect();
    assert_eq!(
        dry,
        ["istio would deny", "drako would deny"],
        "each dry-run verdict has its own reason"
    );
    let x = ls.explain(&req);
    let traced = x
        .layers
        .iter()
        .map(|l| l.verdict.reason.to_string())
        .collect::<Vec<_>>();
    assert_eq!(traced, ["istio says so for /orders", "drako says so for /orders"]);
    assert_eq!(Reason::text("fixed").to_string(), "fixed");
}

#[test]
fn explain_shows_every_layer_and_marks_those_not_asked() {
    let (ls, _) = layers(&[(Istio, Deny), (Drako, Allow)], Mode::Enforce);
    let req = Request::new("GET", "/");
    let x = ls.explain(&req);
    assert_eq!(x.decision.verdict.dialect(), Some(Istio));
    let asked: Vec<bool> = x.layers.iter().map(|l| l.asked).collect();
    assert_eq!(asked, [true, false]);
    let istio = &x.layers[0].lines;
    assert_eq!(istio.first().map(String::as_str), Some("istio looked"));
    assert_eq!(
        istio.last().map(String::as_str),
        Some("verdict: deny (Policy ns/istio rule 0: istio says so for /)")
    );
    assert!(istio
        .iter()
        .any(|l| l == "reported (deny, not enforced): istio would deny"));
    assert!(x.layers[1].lines.iter().any(|l| l.starts_with("not asked")));
}

#[test]
fn defaults_have_one_meta_per_effect() {
    let ids = MetaIds::default();
    let d = Defaults::new(&ids, Some(Linkerd));
    let names: Vec<&str> = [Allow, Deny, NotFound].iter().map(|e| d.of(*e).name.as_str()).collect();
    assert_eq!(names, ["allow", "deny", "not-found"]);
    assert!([Allow, Deny, NotFound]
        .iter()
        .all(|e| d.of(*e).is_default() && d.of(*e).namespace == "-"));
    let mut id: Vec<usize> = [Allow, Deny, NotFound].iter().map(|e| d.of(*e).id()).collect();
    id.dedup();
    assert_eq!((id.len(), ids.count()), (3, 3));
}
