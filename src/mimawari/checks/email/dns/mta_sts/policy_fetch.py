"""email.mta_sts.policy_fetch — can senders fetch the policy the way RFC 8461 §3.3 says they must.

``https://mta-sts.<domain>/.well-known/mta-sts.txt``, from an address of ``mta-sts.<domain>``, over TLS
with a certificate valid for that name, answered 200 with ``text/plain``, no redirect followed. Any
failure means senders have no policy, so MTA-STS is off although announced: D, with the failure
verbatim. A timeout is unknown, never a failure. N/A when no MTA-STS record is published.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.mta_sts.fixes import REFERENCES, evidence, fixed_policy, policy_snippet
from mimawari.model import AfterFix, Category, Fix, Grade, Reference, Severity, Status, Text, Verdict
from mimawari.observations.mta_sts import MTA_STS, MtaStsObservation, Retrieval

TITLE = Text("MTA-STS policy retrieval", "MTA-STS ポリシーの取得")

NOT_PUBLISHED = Text(
    "No MTA-STS record is published, so senders do not look for a policy.",
    "MTA-STS レコードが公開されていないため、送信側はポリシーを取得しません。",
)
UNKNOWN = Text(
    "Whether senders can fetch the MTA-STS policy could not be determined ({problem}). Scan again.",
    "MTA-STS ポリシーを送信側が取得できるか判定できませんでした（{problem}）。再度スキャンしてください。",
)
FAILED = Text(
    "Senders cannot fetch the MTA-STS policy from {url}: {problem}. MTA-STS is announced but has no effect.",
    "送信側は {url} から MTA-STS ポリシーを取得できません（{problem}）。MTA-STS は公開されていますが"
    "効果がありません。",
)
RETRIEVED = Text(
    "The MTA-STS policy is served at {url} over HTTPS with a valid certificate, as text/plain.",
    "MTA-STS ポリシーは {url} で、有効な証明書による HTTPS を使い text/plain で配信されています。",
)

FIX_ADDRESS = Text(
    "Point {host} at the HTTPS server that serves the policy (A and/or AAAA record).",
    "{host} をポリシーを配信する HTTPS サーバーに向けてください（A / AAAA レコード）。",
)
FIX_CERTIFICATE = Text(
    "Serve {host} with a certificate valid for that name from a publicly trusted CA, for example with "
    "Let's Encrypt.",
    "{host} には、その名前に有効な、公的に信頼された CA の証明書（例: Let's Encrypt）を使ってください。",
)
FIX_REDIRECT = Text(
    "Serve the policy directly at {url}: senders never follow redirects (RFC 8461 §3.3).",
    "ポリシーは {url} で直接配信してください。送信側はリダイレクトをたどりません（RFC 8461 3.3 節）。",
)
FIX_CONTENT_TYPE = Text(
    "Serve the policy file with the header Content-Type: text/plain.",
    "ポリシーファイルは Content-Type: text/plain ヘッダーで配信してください。",
)
FIX_SERVE = Text(
    "Make {url} answer 200 with the policy file, on port 443 of every address of {host}.",
    "{host} のすべてのアドレスの 443 番ポートで、{url} がポリシーファイルを 200 で返すようにしてください。",
)
EFFECT = Text(
    "Senders fetch and cache the policy, so MTA-STS takes effect.",
    "送信側がポリシーを取得してキャッシュし、MTA-STS が有効になります。",
)


def evaluate(observation: MtaStsObservation) -> Verdict:
    found = evidence(observation, policy=True)
    if not observation.status.answered:
        lookup = observation.txt_lookup
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(problem=f"{lookup.query}: {lookup.outcome}"), found)
    fetched = observation.policy_fetch
    if observation.status is Status.ABSENT or fetched is None:
        return Verdict(Grade.NA, NOT_PUBLISHED, found)
    url = observation.policy_url
    if fetched.retrieval is Retrieval.UNKNOWN:
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(problem=fetched.problem), found)
    if fetched.retrieval is Retrieval.RETRIEVED:
        return Verdict(Grade.A, RETRIEVED.format(url=url), found)
    fixed = replace(observation, policy_fetch=replace(fetched, retrieval=Retrieval.RETRIEVED, problem=""))
    after = AfterFix(evaluate(fixed).grade, EFFECT)
    summary = FAILED.format(url=url, problem=fetched.problem)
    return Verdict(Grade.D, summary, found, _fix(observation), after)


def _fix(observation: MtaStsObservation) -> Fix:
    """The fix for the way the fetch failed, read from the raw answers."""
    url, host = observation.policy_url, observation.policy_host
    fetched = observation.policy_fetch
    response = fetched.response if fetched is not None else None
    policy = policy_snippet(observation, fixed_policy(observation))
    if response is None:
        return Fix(FIX_ADDRESS.format(host=host), f"{host}. IN A <address of the HTTPS server>")
    if response.status is not Status.PRESENT:
        if "certificate" in response.detail or "SSL" in response.detail:
            return Fix(
                FIX_CERTIFICATE.format(host=host), f"certbot certonly --webroot -w /var/www/mta-sts -d {host}"
            )
        return Fix(FIX_SERVE.format(url=url, host=host), policy)
    if response.redirect or (response.http_status or 0) // 100 == 3:
        return Fix(FIX_REDIRECT.format(url=url), policy)
    if response.http_status == 200:
        return Fix(FIX_CONTENT_TYPE, "Content-Type: text/plain")
    return Fix(FIX_SERVE.format(url=url, host=host), policy)


CHECK = Check(
    id="email.mta_sts.policy_fetch",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=(
        Reference("RFC 8461 §3.3", "https://www.rfc-editor.org/rfc/rfc8461#section-3.3"),
        REFERENCES[0],
    ),
    observer=MTA_STS,
    evaluate=evaluate,
)
