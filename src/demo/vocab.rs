//! The demo's words: job titles, invented names, fixed signal phrases and call-note templates.
//!
//! Everything a later signal extractor (or a test) matches on is a named constant here, so that
//! the generator, the skills file and the SQL in the tests cannot drift apart. Templates never
//! contain a signal phrase by accident: a unit test scans them for every planted marker.

// --- Job titles (exact strings; the skills file maps them to personas) ---

/// Chief Technology Officer: the "CTO" persona of pattern 2.
pub const TITLE_CTO: &str = "CTO";
/// An engineering leader (technical buyer, possible champion).
pub const TITLE_VP_ENGINEERING: &str = "VP Engineering";
/// A platform leader (technical buyer, possible champion).
pub const TITLE_HEAD_OF_PLATFORM: &str = "Head of Platform";
/// A hands-on engineering lead (user, possible champion).
pub const TITLE_ENGINEERING_MANAGER: &str = "Engineering Manager";
/// Chief Financial Officer: an economic buyer.
pub const TITLE_CFO: &str = "CFO";
/// A finance leader: an economic buyer.
pub const TITLE_VP_FINANCE: &str = "VP Finance";
/// The controller: an economic buyer.
pub const TITLE_CONTROLLER: &str = "Controller";
/// Runs the purchasing process in Negotiation.
pub const TITLE_PROCUREMENT_MANAGER: &str = "Procurement Manager";
/// An IT leader (technical buyer, possible champion).
pub const TITLE_IT_DIRECTOR: &str = "IT Director";
/// A product leader (influencer, possible champion).
pub const TITLE_HEAD_OF_PRODUCT: &str = "Head of Product";
/// A product manager (user, possible champion).
pub const TITLE_PRODUCT_MANAGER: &str = "Product Manager";
/// Chief Operating Officer (influencer, possible champion).
pub const TITLE_COO: &str = "COO";
/// An operations lead (user, possible champion).
pub const TITLE_OPERATIONS_MANAGER: &str = "Operations Manager";
/// Runs the security review (technical buyer, possible champion).
pub const TITLE_SECURITY_LEAD: &str = "Security Lead";

/// Titles of the economic-buyer persona (pattern 3).
pub const ECONOMIC_BUYER_TITLES: [&str; 3] = [TITLE_CFO, TITLE_VP_FINANCE, TITLE_CONTROLLER];

/// Every title the demo uses.
pub const ALL_TITLES: [&str; 14] = [
    TITLE_CTO,
    TITLE_VP_ENGINEERING,
    TITLE_HEAD_OF_PLATFORM,
    TITLE_ENGINEERING_MANAGER,
    TITLE_CFO,
    TITLE_VP_FINANCE,
    TITLE_CONTROLLER,
    TITLE_PROCUREMENT_MANAGER,
    TITLE_IT_DIRECTOR,
    TITLE_HEAD_OF_PRODUCT,
    TITLE_PRODUCT_MANAGER,
    TITLE_COO,
    TITLE_OPERATIONS_MANAGER,
    TITLE_SECURITY_LEAD,
];

/// Titles a champion can have: neither the CTO, an economic buyer nor procurement, so that the
/// planted exposures (CTO engaged, economic buyer live) are decided only by their own draws.
pub(crate) const CHAMPION_TITLES: [&str; 9] = [
    TITLE_VP_ENGINEERING,
    TITLE_HEAD_OF_PLATFORM,
    TITLE_ENGINEERING_MANAGER,
    TITLE_IT_DIRECTOR,
    TITLE_HEAD_OF_PRODUCT,
    TITLE_PRODUCT_MANAGER,
    TITLE_COO,
    TITLE_OPERATIONS_MANAGER,
    TITLE_SECURITY_LEAD,
];

// --- Fixed phrases that signals (and the tests) find with LIKE ---

/// Invented competitors. A call or meeting note naming one of them is a competitor mention.
pub const COMPETITORS: [&str; 5] = ["Quantivo", "Pipeworks", "DealForge", "Closely", "Forecastr"];

/// The word that marks discount pressure in an activity body. It appears only in the planted
/// discount asks of pattern 4.
pub const DISCOUNT_WORD: &str = "discount";

/// The phrase of a business case / ROI sign-off note (pattern 4's moderator). It appears only in
/// those notes.
pub const BUSINESS_CASE_PHRASE: &str = "business case and ROI signed off";

/// The phrase of a security review in a call note (a realistic fact with no planted effect).
pub const SECURITY_REVIEW_PHRASE: &str = "security review";

// --- Reference data ---

/// The invented domain of the demo sales team's own people.
pub(crate) const OWN_DOMAIN: &str = "lanternfish.example";

pub(crate) const TEAMS: [&str; 3] = ["Enterprise", "Mid-Market", "Commercial"];

/// Twelve invented reps, four per team in [`TEAMS`] order.
pub(crate) const OWNER_NAMES: [&str; 12] = [
    "Maren Holt",
    "Tobias Ferrante",
    "Adaeze Okafor",
    "Lucian Brandt",
    "Priya Raman",
    "Jonah Whitlock",
    "Sofia Lindqvist",
    "Mateo Ruiz",
    "Hana Kobayashi",
    "Callum Reyes",
    "Ingrid Vasquez",
    "Dev Malhotra",
];

pub(crate) const INDUSTRIES: [&str; 8] = [
    "Software",
    "Fintech",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Logistics",
    "Media",
    "Education",
];

/// Name endings that fit each industry in [`INDUSTRIES`] order.
pub(crate) const INDUSTRY_SUFFIXES: [[&str; 4]; 8] = [
    ["Software", "Labs", "Systems", "Cloud"],
    ["Pay", "Capital", "Ledger", "Financial"],
    ["Health", "Medical", "Care", "Clinics"],
    ["Industries", "Manufacturing", "Works", "Fabrication"],
    ["Retail", "Goods", "Market", "Outfitters"],
    ["Logistics", "Freight", "Shipping", "Transit"],
    ["Media", "Studios", "Publishing", "Broadcast"],
    ["Learning", "Academy", "Education", "Schools"],
];

pub(crate) const NAME_FIRST: [&str; 40] = [
    "Amber",
    "Basalt",
    "Cobalt",
    "Drift",
    "Ember",
    "Fjord",
    "Granite",
    "Harbor",
    "Ivory",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Marlow",
    "Nimbus",
    "Onyx",
    "Pinecrest",
    "Quarry",
    "Redwood",
    "Sable",
    "Tidal",
    "Umber",
    "Vantage",
    "Willow",
    "Larch",
    "Yarrow",
    "Zephyr",
    "Alder",
    "Birch",
    "Cinder",
    "Dune",
    "Elm",
    "Foxglove",
    "Glacier",
    "Heron",
    "Indigo",
    "Jasper",
    "Kelp",
    "Lark",
    "Moss",
    "Nettle",
];

pub(crate) const NAME_SECOND: [&str; 24] = [
    "Ridge", "Point", "Bay", "Field", "Stone", "Brook", "Crest", "Hollow", "Vale", "Peak", "Shore",
    "Gate", "Mill", "Forge", "Line", "Bridge", "Grove", "Haven", "Lake", "Park", "Spring", "Wood",
    "Row", "Cove",
];

pub(crate) const SIZE_BANDS: [&str; 5] = ["1-50", "51-200", "201-1000", "1001-5000", "5000+"];

pub(crate) const BUYING_CENTERS: [&str; 3] = ["engineering", "finance", "operations"];

pub(crate) const REGIONS: [&str; 4] = ["North America", "EMEA", "APAC", "LATAM"];

pub(crate) const OWNERSHIP: [&str; 4] = ["Private", "Public", "PE-backed", "VC-backed"];

pub(crate) const PERSON_FIRST: [&str; 48] = [
    "Alex", "Bianca", "Chen", "Dana", "Elif", "Farah", "Gabriel", "Hugo", "Isla", "Jamal", "Kira",
    "Leon", "Mina", "Nadia", "Omar", "Paula", "Quinn", "Rafael", "Sana", "Theo", "Uma", "Victor",
    "Wen", "Xavier", "Yara", "Zoe", "Anika", "Bruno", "Carmen", "Dmitri", "Esther", "Felix",
    "Greta", "Hassan", "Ines", "Jonas", "Keiko", "Lars", "Maya", "Nikhil", "Olga", "Pedro", "Rosa",
    "Samir", "Tessa", "Ulrich", "Vera", "Wes",
];

pub(crate) const PERSON_LAST: [&str; 48] = [
    "Abbott",
    "Bergstrom",
    "Castillo",
    "Dimitriou",
    "Eriksen",
    "Fischer",
    "Gallagher",
    "Hartmann",
    "Iwasaki",
    "Jovanovic",
    "Kowalski",
    "Laurent",
    "Mbeki",
    "Novak",
    "Oyelaran",
    "Petrov",
    "Quintero",
    "Rossi",
    "Sandoval",
    "Takahashi",
    "Ulloa",
    "Varga",
    "Wojcik",
    "Yilmaz",
    "Zhou",
    "Acheson",
    "Bianchi",
    "Carvalho",
    "Delaney",
    "Engel",
    "Fontaine",
    "Grieve",
    "Haddad",
    "Ibarra",
    "Janssen",
    "Kaur",
    "Lindgren",
    "Moreau",
    "Nakamura",
    "Okonkwo",
    "Pereira",
    "Rahman",
    "Schultz",
    "Tanaka",
    "Urquhart",
    "Vogel",
    "Whitaker",
    "Zielinski",
];

// --- Deal attributes (null: drawn independently, no effect on anything) ---

pub(crate) const PRODUCT_LINES: [&str; 4] = ["Platform", "Analytics", "Forecasting", "Data Sync"];
pub(crate) const DEAL_TYPES: [&str; 2] = ["new business", "expansion"];
pub(crate) const LEAD_SOURCES: [&str; 5] = ["Inbound", "Outbound", "Referral", "Event", "Partner"];
pub(crate) const CONTRACT_TERMS: [&str; 3] = ["12 months", "24 months", "36 months"];
pub(crate) const BILLING_FREQUENCIES: [&str; 3] = ["annual", "quarterly", "monthly"];
pub(crate) const CAMPAIGNS: [&str; 5] = [
    "Pipeline Health webinar",
    "RevOps Summit",
    "Forecasting guide",
    "Account-based outreach",
    "none",
];
pub(crate) const PAYMENT_TERMS: [&str; 3] = ["Net 30", "Net 45", "Net 60"];
pub(crate) const YES_NO: [&str; 2] = ["true", "false"];

// --- Call-note templates. Placeholders: {name} (a participant's first name), {company},
// {n} (a small number), {weeks}, {competitor}, {pct}. ---

/// Conversations (calls and meetings) by phase: Discovery, Qualified, Demo, Proposal, Negotiation.
pub(crate) const TALK: [&[&str]; 5] = [
    &[
        "Discovery call with {name}: the team spends about {n} hours a week rebuilding the pipeline report by hand before the Monday forecast.",
        "Intro with {name}. Pain: deals slip without anyone noticing until quarter end; no shared view of deal risk across {n} regions.",
        "{name} walked us through their sales process. Stage definitions differ by team, which makes the forecast hard to trust.",
        "First call with {name}. They lost two large renewals last quarter and want an early warning when a deal goes quiet.",
        "Discovery: {company} runs deal reviews in slides; {name} wants one screen for what slipped, what was lost and why.",
        "{name} described their win/loss process: a survey nobody answers. Interested in structured post-mortems.",
    ],
    &[
        "Qualification call with {name}: timeline is this half; current tooling is spreadsheets plus CRM reports.",
        "{name} confirmed the problem is a priority for the leadership offsite in {weeks} weeks. Agreed success criteria.",
        "Walked {name} through how other teams run weekly reviews. Next step: a tailored demo for the wider group.",
        "{name} shared their stage definitions and the fields they trust. Data quality is decent; close dates are not.",
        "Mapped the evaluation steps with {name}: demo, technical check, proposal, then legal.",
    ],
    &[
        "Demo for {name} and team. Strong reaction to the deal timeline; questions about SSO and API rate limits.",
        "Ran the demo. {name} liked the review queue and asked how lessons are kept current as the data changes.",
        "Technical deep dive with {name}: sync frequency, field mapping and how history is stored offline.",
        "Follow-up demo focused on reporting. {name} wants to pilot with {n} reps before a wider rollout.",
        "{name} raised data residency and SSO requirements; we shared the architecture overview.",
        "Demo recap with {name}: they want exports to their data warehouse and a read-only role for finance.",
    ],
    &[
        "Walked {name} through the proposal: seat tiers, rollout plan and onboarding in {weeks} weeks.",
        "Proposal review with {name}. Questions on seat counts for next year and on annual versus quarterly billing.",
        "{name} is socialising the proposal internally; wants a one-page summary for the leadership team.",
        "Pricing questions from {name} about adding {n} seats mid-term. Sent the seat schedule.",
        "Check-in with {name}: proposal is with their leadership; they asked for reference customers in their industry.",
    ],
    &[
        "Legal sent redlines on the MSA: liability cap and the data processing addendum.",
        "Procurement onboarding with {name}: vendor form, tax form and insurance certificate submitted.",
        "Contract call with {name}: agreed start date and the order form; waiting on signature routing.",
        "{name} confirmed the purchase order is in the approval chain; expected to clear in {n} days.",
        "Redline call with {name}: resolved the termination clause; one open point on data retention.",
    ],
];

/// Inbound emails by phase.
pub(crate) const INBOUND: [&[&str]; 5] = [
    &[
        "Thanks for the call. Sharing our current pipeline report so you can see what we do today.",
        "Happy to continue the conversation; looping in a colleague for the next call.",
    ],
    &[
        "We reviewed the success criteria internally and they look right. Can we book the demo?",
        "Attached our stage definitions as promised.",
    ],
    &[
        "The team enjoyed the demo. A few follow-up questions on SSO and data export attached.",
        "Can you share the architecture overview and your uptime history?",
    ],
    &[
        "We have the proposal. Could you clarify how seats are counted for managers?",
        "Leadership reviewed the proposal; a couple of questions on onboarding timelines.",
    ],
    &[
        "Our legal team's comments on the MSA are attached.",
        "The order form is with our signatories.",
    ],
];

/// Outbound emails by phase.
pub(crate) const OUTBOUND: [&[&str]; 5] = [
    &[
        "Thanks for your time today. Recap and proposed next steps below.",
        "Following up on our intro: here is a short overview and two customer stories.",
    ],
    &[
        "Summary of the success criteria we agreed, plus suggested times for the demo.",
        "Sharing the evaluation plan we discussed.",
    ],
    &[
        "Recording and slides from the demo, with answers to the SSO questions.",
        "Sending the architecture overview and our standard security documentation.",
    ],
    &[
        "Proposal attached, with the rollout plan and seat schedule.",
        "Checking in on the proposal: happy to walk anyone else through it.",
    ],
    &[
        "Order form and MSA attached for review.",
        "Following up on the redlines: our counsel has replied to each point.",
    ],
];

/// Rep notes by phase.
pub(crate) const NOTES: [&[&str]; 5] = [
    &[
        "Good fit on paper: {n} reps, weekly forecast call, CRM data reasonably clean.",
        "Pain is real but budget not confirmed yet.",
    ],
    &[
        "Qualified: problem, owner and timeline confirmed.",
        "Evaluation plan agreed; need to widen the group before the demo.",
    ],
    &[
        "Demo landed well with the users; need the sponsor in the next meeting.",
        "Open questions after the demo: SSO, data export, audit log.",
    ],
    &[
        "Proposal sent. Waiting on internal review.",
        "Customer is comparing seat tiers; follow up next week.",
    ],
    &[
        "In contracting. Legal turnaround is usually {n} days there.",
        "Order form out for signature.",
    ],
];

/// Security review mentions (a realistic fact with no planted effect), in Demo or Proposal.
pub(crate) const SECURITY_TALK: [&str; 3] = [
    "{name} sent the security review questionnaire; we shared the SOC 2 report and pen test summary.",
    "Kicked off the security review with {name}: data residency, SSO enforcement and retention.",
    "{name} says the security review is on track; two questions left on encryption at rest.",
];

/// Competitor mentions in conversations.
pub(crate) const COMPETITOR_TALK: [&str; 4] = [
    "{name} mentioned they are also evaluating {competitor}; wants a side-by-side comparison.",
    "{competitor} came up on the call: {name} says their pricing page looked simpler.",
    "{name} has a demo with {competitor} next week and asked how our review workflow differs.",
    "Their board member knows the {competitor} founders; {name} wants to see both options.",
];

/// Planted discount asks (pattern 4). Every one contains [`DISCOUNT_WORD`].
pub(crate) const DISCOUNT_ASKS: [&str; 4] = [
    "Procurement asked for a {pct}% discount to get this over the line this quarter.",
    "{name} asked for a {pct}% discount on the annual price before taking it to signature.",
    "Can you do better on price? We were hoping for a {pct}% discount on the first year.",
    "{name} pushed for a {pct}% discount in exchange for a longer term.",
];

/// Business case / ROI sign-off notes (pattern 4's moderator). Every one contains
/// [`BUSINESS_CASE_PHRASE`].
pub(crate) const BUSINESS_CASE_NOTES: [&str; 3] = [
    "{name}: business case and ROI signed off; payback in {n} months on reclaimed forecast time.",
    "Finance review done, business case and ROI signed off by {name}. Sponsor briefed.",
    "Milestone: business case and ROI signed off ({name}); the value is now anchored before pricing.",
];

/// Economic-buyer meetings before the proposal (pattern 3's exposure).
pub(crate) const EB_MEETING: [&str; 3] = [
    "Commercial review with {name}: budget line confirmed, rollout in phases, approval path mapped.",
    "Met {name} to walk through spend, timing and the approval chain.",
    "{name} joined to review commercials and the rollout plan; wants quarterly check-ins after launch.",
];

/// Re-engagement after a stall (pattern 3).
pub(crate) const RESUME_TALK: [&str; 2] = [
    "{name} is back after a quiet few weeks: internal reprioritisation, but the project is still on.",
    "Reconnected with {name} after the silence; they want to restart the review of the proposal.",
];

/// Closing notes.
pub(crate) const WON_NOTES: [&str; 2] = [
    "Contract signed. Kickoff booked with {name}.",
    "Closed won. Handover to onboarding scheduled.",
];
/// Closing notes on lost deals.
pub(crate) const LOST_NOTES: [&str; 2] = [
    "Closed lost. Keeping in touch with {name} for next year.",
    "Closed lost; notes added to the deal record.",
];

/// The rep's one-way chases of a "no decision" deal that has gone quiet.
pub(crate) const CHASE_EMAILS: [&str; 3] = [
    "Checking in, {name}: is fixing the forecast process still a priority for {company} this quarter?",
    "Following up on our last conversation. Happy to pick this up whenever the timing suits you.",
    "Should I put this on hold for now? Let me know if anything changes on your side.",
];

/// Closing notes of "no decision" deals, closed lost in a pipeline clean-up.
pub(crate) const CLEANUP_NOTES: [&str; 3] = [
    "Pipeline clean-up: no reply from {name} since our last call. Closed lost, no decision.",
    "Quarter-end pipeline hygiene: the prospect went quiet months ago. Closed lost.",
    "Closed lost in the pipeline clean-up; no activity from {company} for months. Revisit next year.",
];

/// Meeting subjects by phase.
pub(crate) const MEETING_SUBJECTS: [&str; 5] = [
    "Discovery call",
    "Qualification",
    "Product demo",
    "Proposal review",
    "Contract review",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn all_templates() -> Vec<&'static str> {
        let mut all: Vec<&str> = Vec::new();
        for phase in TALK.iter().chain(&INBOUND).chain(&OUTBOUND).chain(&NOTES) {
            all.extend(phase.iter().copied());
        }
        all.extend(EB_MEETING);
        all.extend(RESUME_TALK);
        all.extend(WON_NOTES);
        all.extend(LOST_NOTES);
        all.extend(CHASE_EMAILS);
        all.extend(CLEANUP_NOTES);
        all.extend(MEETING_SUBJECTS);
        all
    }

    /// Background text must never contain a planted marker: LIKE is case-insensitive, so even a
    /// word such as "closely" would count as a competitor mention.
    #[test]
    fn background_text_holds_no_signal_phrase() {
        let mut markers: Vec<String> = COMPETITORS.iter().map(|c| c.to_lowercase()).collect();
        markers.extend(
            [
                DISCOUNT_WORD,
                "business case",
                "roi",
                SECURITY_REVIEW_PHRASE,
            ]
            .map(str::to_lowercase),
        );
        for t in all_templates() {
            let lower = t.to_lowercase();
            for m in &markers {
                assert!(!lower.contains(m.as_str()), "{t:?} contains {m:?}");
            }
        }
        for t in SECURITY_TALK.iter().chain(&COMPETITOR_TALK) {
            let lower = t.to_lowercase();
            assert!(
                !lower.contains(DISCOUNT_WORD) && !lower.contains("roi"),
                "{t:?}"
            );
        }
    }

    #[test]
    fn planted_templates_carry_their_marker() {
        assert!(DISCOUNT_ASKS.iter().all(|t| t.contains(DISCOUNT_WORD)));
        assert!(
            BUSINESS_CASE_NOTES
                .iter()
                .all(|t| t.contains(BUSINESS_CASE_PHRASE))
        );
        assert!(
            SECURITY_TALK
                .iter()
                .all(|t| t.contains(SECURITY_REVIEW_PHRASE))
        );
        assert!(COMPETITOR_TALK.iter().all(|t| t.contains("{competitor}")));
        // Names in the word lists must not smuggle markers in either.
        for w in NAME_FIRST
            .iter()
            .chain(&NAME_SECOND)
            .chain(INDUSTRY_SUFFIXES.iter().flatten())
            .chain(&PERSON_FIRST)
            .chain(&PERSON_LAST)
        {
            let lower = w.to_lowercase();
            assert!(
                !lower.contains("roi") && !lower.contains(DISCOUNT_WORD),
                "{w}"
            );
            assert!(
                COMPETITORS
                    .iter()
                    .all(|c| !lower.contains(&c.to_lowercase())),
                "{w}"
            );
        }
    }
}
