"""The GitHub workflows and the OIDC policy documents: actions pinned to commits, least privilege,
one operation per stack at a time, prod by hand from main, and the stacks they name are the stack
files. The comment script of pr-comment.yml runs here under node with GitHub's API stood in for."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

PROJECT = Path(__file__).resolve().parents[1]
WORKFLOWS = PROJECT / ".github" / "workflows"
OIDC = PROJECT / "deploy" / "github-oidc"
STACKS = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in PROJECT.glob("Pulumi.*.yaml"))
# .ci/run's rule (checked below): these stacks get policy/production.json.
PRODUCTION_STACKS = {"prod"}
# The GitHub environment each stack's `pulumi up` runs in (its OIDC subject names it), and the
# one its previews and drift checks run in: each holds its own role and Pulumi token.
ENVIRONMENTS = {"dev": "dev", "prod": "production"}
PREVIEW_ENVIRONMENTS = {"dev": "preview", "prod": "preview-production"}
# The stacks a pull request previews (it runs the pull request's code): never production's.
PREVIEWED_IN_PULL_REQUESTS = ["dev"]
PULUMI_WITH_EXIT_7 = (3, 226, 1)  # the first CLI whose --expect-no-changes exits 7
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
LOCAL_WORKFLOW = "./.github/workflows/"
AWS_CREDENTIALS = "aws-actions/configure-aws-credentials"
PULUMI_ACTION = "pulumi/actions"

# The permissions of every job: each write is here on purpose, and nothing else may write.
PERMISSIONS: dict[tuple[str, str], dict[str, str]] = {
    ("ci", "ci"): {"contents": "read"},
    ("pull-request", "ci"): {"contents": "read"},
    ("pull-request", "offline-diff"): {"contents": "read"},
    ("pull-request", "preview"): {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "write",
    },
    ("pr-comment", "comment"): {"actions": "read", "pull-requests": "write"},
    ("deploy-dev", "ci"): {"contents": "read"},
    ("deploy-dev", "deploy"): {"contents": "read", "id-token": "write"},
    ("deploy-prod", "check"): {"contents": "read"},
    ("deploy-prod", "ci"): {"contents": "read"},
    ("deploy-prod", "preview"): {"contents": "read", "id-token": "write"},
    ("deploy-prod", "deploy"): {"contents": "read", "id-token": "write"},
    ("drift", "drift"): {"contents": "read", "id-token": "write", "issues": "write"},
}


def _load(path: Path) -> dict[str, Any]:
    # YAML 1.2, as GitHub reads it: `on:` stays the string "on".
    data: dict[str, Any] = YAML(typ="safe").load(path.read_text())
    return data


WORKFLOW = {path.stem: _load(path) for path in sorted(WORKFLOWS.glob("*.yml"))}


def jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, workflow in WORKFLOW.items():
        for job_id, job in workflow["jobs"].items():
            yield name, job_id, job


def steps(job: dict[str, Any], action: str | None = None) -> list[dict[str, Any]]:
    """The job's steps, or those using `action` (any version)."""
    found: list[dict[str, Any]] = job.get("steps", [])
    if action is None:
        return found
    return [s for s in found if str(s.get("uses", "")).startswith(f"{action}@")]


def script(job: dict[str, Any]) -> str:
    """Every `run:` of the job, in order."""
    return "\n".join(str(s["run"]) for s in steps(job) if "run" in s)


def matrix_stacks(job: dict[str, Any]) -> list[str]:
    matrix = job["strategy"]["matrix"]
    if "stack" in matrix:
        return sorted(matrix["stack"])
    return sorted(entry["stack"] for entry in matrix["include"])


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_the_workflows_are_the_ones_checked_here() -> None:
    assert set(WORKFLOW) == {name for name, _ in PERMISSIONS}
    assert {(name, job_id) for name, job_id, _ in jobs()} == set(PERMISSIONS)


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_and_names_its_version(path: Path) -> None:
    uses = re.findall(r"^\s*(?:- )?uses: (.+)$", path.read_text(), re.MULTILINE)
    assert uses
    for value in uses:
        assert value.startswith(LOCAL_WORKFLOW) or PINNED.match(value), value


def test_each_action_is_pinned_to_one_commit_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS.glob("*.yml"):
        for value in re.findall(r"uses: ([^@\s]+)@(\S+ # \S+)", path.read_text()):
            pins.setdefault(value[0], set()).add(value[1])
    assert pins and all(len(found) == 1 for found in pins.values()), pins


def test_the_token_grants_nothing_by_default_and_each_job_only_what_it_needs() -> None:
    for name, workflow in WORKFLOW.items():
        assert workflow["permissions"] == {}, name
    for name, job_id, job in jobs():
        assert job["permissions"] == PERMISSIONS[(name, job_id)], (name, job_id)


def test_only_jobs_that_assume_an_aws_role_get_an_oidc_token() -> None:
    for name, job_id, job in jobs():
        assumes = bool(steps(job, AWS_CREDENTIALS))
        assert (job["permissions"].get("id-token") == "write") == assumes, (name, job_id)


def test_pull_request_write_is_for_commenting_only() -> None:
    for name, job_id, job in jobs():
        comments = name == "pr-comment" or any(
            s["with"].get("comment-on-pr") is True for s in steps(job, PULUMI_ACTION)
        )
        assert (job["permissions"].get("pull-requests") == "write") == comments, (name, job_id)


def test_every_job_has_a_timeout_and_reusable_calls_are_local() -> None:
    for name, job_id, job in jobs():
        if "uses" in job:
            assert job["uses"] == f"{LOCAL_WORKFLOW}ci.yml", (name, job_id)
        else:
            assert 0 < job["timeout-minutes"] <= 120, (name, job_id)


def test_ci_runs_the_repositorys_own_ci_with_the_database_servers_installed_first() -> None:
    assert WORKFLOW["ci"]["on"] == {"workflow_call": None}
    job = WORKFLOW["ci"]["jobs"]["ci"]
    assert [s["with"]["python-version"] for s in steps(job, "actions/setup-python")] == ["3.11"]
    run = [str(s["run"]) for s in steps(job) if "run" in s]
    # .ci/run skips its own apt-get (as root) when these are there, and must not run under sudo.
    assert "sudo" in run[0] and all(p in run[0] for p in ("postgresql", "mariadb-server-core"))
    assert run[-1] == "bash .ci/run"
    assert (
        "venv/bin/check-jsonschema --builtin-schema vendor.github-workflows"
        in (PROJECT / ".ci" / "run").read_text()
    )


def test_pull_requests_run_ci_and_the_offline_diff_against_the_base_commit() -> None:
    workflow = WORKFLOW["pull-request"]
    assert set(workflow["on"]) == {"pull_request"}
    assert workflow["jobs"]["ci"]["uses"] == f"{LOCAL_WORKFLOW}ci.yml"
    job = workflow["jobs"]["offline-diff"]
    assert steps(job, "actions/checkout")[0]["with"]["fetch-depth"] == 0
    diff = next(s for s in steps(job) if "tools.diff" in str(s.get("run", "")))
    assert diff["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert diff["env"]["PR_NUMBER"] == "${{ github.event.pull_request.number }}"
    run = str(diff["run"])
    assert "for file in Pulumi.*.yaml" in run  # every stack, from the stack files
    assert '-m tools.diff --base "$BASE_SHA" --out offline-diff/diff.md "${stacks[@]}"' in run
    # The diff step itself never fails (the upload comes first) and always reports a status.
    assert "status=0" in run and "|| status=$?" in run
    order = [s.get("id") or s.get("uses", "").split("@")[0] or s.get("name") for s in steps(job)]
    assert order.index("diff") < order.index("actions/upload-artifact") < order.index("Verdict")
    upload = steps(job, "actions/upload-artifact")[0]["with"]
    assert (upload["name"], upload["path"]) == ("offline-diff", "offline-diff/")
    verdict = steps(job)[-1]
    assert verdict["env"]["STATUS"] == "${{ steps.diff.outputs.status }}"
    assert "0) " in verdict["run"] and "*) " in verdict["run"] and "exit 1" in verdict["run"]


def test_pull_requests_preview_only_dev_in_the_preview_environment() -> None:
    job = WORKFLOW["pull-request"]["jobs"]["preview"]
    assert "vars.PREVIEW_ENABLED == 'true'" in job["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    assert job["environment"] == PREVIEW_ENVIRONMENTS["dev"]
    assert job["concurrency"]["cancel-in-progress"] is True
    assert "github.event.pull_request.number" in job["concurrency"]["group"]
    previews = [s["with"] for s in steps(job, PULUMI_ACTION)]
    assert [p["stack-name"] for p in previews] == PREVIEWED_IN_PULL_REQUESTS
    assert not set(PREVIEWED_IN_PULL_REQUESTS) & PRODUCTION_STACKS
    (preview,) = previews
    assert preview["command"] == "preview" and preview["policyPacks"] == "policy"
    assert preview["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"


def _environments(job: dict[str, Any]) -> dict[str, str]:
    """The environment of each stack the job runs for (a matrix names it per stack)."""
    if job.get("environment") == "${{ matrix.environment }}":
        return {e["stack"]: e["environment"] for e in job["strategy"]["matrix"]["include"]}
    stacks = {
        s["with"]["stack-name"] for s in steps(job, PULUMI_ACTION) if "stack-name" in s["with"]
    }
    return {stack: job["environment"] for stack in stacks if "environment" in job}


def test_every_secret_is_read_in_an_environment_of_its_stack() -> None:
    for name, job_id, job in jobs():
        if "secrets." not in json.dumps(job):
            continue
        environments = _environments(job)
        assert environments, (name, job_id)
        for stack, environment in environments.items():
            assert environment in (ENVIRONMENTS[stack], PREVIEW_ENVIRONMENTS[stack]), (name, job_id)


def test_previews_and_drift_run_in_the_preview_environments_and_deploys_in_their_own() -> None:
    for name, job_id, job in jobs():
        for stack, environment in _environments(job).items():
            ups = [s for s in steps(job, PULUMI_ACTION) if s["with"].get("command") == "up"]
            expected = ENVIRONMENTS if ups else PREVIEW_ENVIRONMENTS
            assert environment == expected[stack], (name, job_id, stack)


def test_production_stacks_get_the_production_rules_in_ci_too() -> None:
    assert (
        '[ "$stack" = prod ] && config=policy/production.json'
        in (PROJECT / ".ci" / "run").read_text()
    )


def test_the_offline_diff_is_commented_without_running_pull_request_code() -> None:
    workflow = WORKFLOW["pr-comment"]
    assert workflow["on"] == {
        "workflow_run": {"workflows": [WORKFLOW["pull-request"]["name"]], "types": ["completed"]}
    }
    (job,) = workflow["jobs"].values()
    assert not steps(job, "actions/checkout")
    assert not any("run" in s for s in steps(job))  # nothing but the pinned actions below
    assert {s["uses"].split("@")[0] for s in steps(job)} == {
        "actions/github-script",
        "actions/download-artifact",
    }
    download = steps(job, "actions/download-artifact")[0]["with"]
    assert download["run-id"] == "${{ github.event.workflow_run.id }}"


def _pulumi_runs(kind: str) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    return [
        (name, job_id, job, step)
        for name, job_id, job in jobs()
        for step in steps(job, PULUMI_ACTION)
        if step.get("with", {}).get("command") == kind
    ]


def test_pulumi_up_runs_one_at_a_time_per_stack_and_is_never_cancelled() -> None:
    ups = _pulumi_runs("up")
    deployed = sorted(step["with"]["stack-name"] for *_, step in ups)
    assert deployed == sorted(ENVIRONMENTS) and set(deployed) <= set(STACKS)
    for name, job_id, job, step in ups:
        stack = step["with"]["stack-name"]
        assert job["concurrency"] == {
            "group": f"pulumi-{stack}",
            "cancel-in-progress": False,
            "queue": "max",
        }, (name, job_id)
        assert job["environment"] == ENVIRONMENTS[stack]
        assert step["with"]["policyPacks"] == "policy"
        production = "policy/production.json" if stack in PRODUCTION_STACKS else None
        assert step["with"].get("policyPackConfigs") == production
        (credentials,) = steps(job, AWS_CREDENTIALS)
        assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
        # Credentials that expire mid-update would leave the stack half-applied.
        assert credentials["with"]["role-duration-seconds"] >= 60 * job["timeout-minutes"]
    for name, job_id, job in jobs():  # and nothing runs the CLI's up or destroy by hand
        assert not re.search(r"pulumi (up|update|destroy)\b", script(job)), (name, job_id)


def test_dev_deploys_every_push_to_main_after_ci() -> None:
    workflow = WORKFLOW["deploy-dev"]
    assert workflow["on"] == {"push": {"branches": ["main"]}}
    job = workflow["jobs"]["deploy"]
    assert (job["needs"], job["if"]) == ("ci", "vars.DEPLOY_ENABLED == 'true'")
    assert workflow["jobs"]["ci"]["uses"] == f"{LOCAL_WORKFLOW}ci.yml"


def test_prod_deploys_only_by_hand_from_main_after_ci_a_preview_and_a_review() -> None:
    workflow = WORKFLOW["deploy-prod"]
    assert workflow["on"] == {"workflow_dispatch": None}
    jobs_ = workflow["jobs"]
    assert 'if [ "$GITHUB_REF" != refs/heads/main ]' in script(jobs_["check"])
    # Main's newest commit only, checked again after the approval (main may have moved on).
    newest = 'newest=$(gh api "repos/$GITHUB_REPOSITORY/commits/main" --jq .sha)'
    for job_id in ("check", "deploy"):
        assert newest in script(jobs_[job_id]), job_id
        assert 'if [ "$newest" != "$GITHUB_SHA" ]' in script(jobs_[job_id]), job_id
    assert (jobs_["ci"]["needs"], jobs_["preview"]["needs"], jobs_["deploy"]["needs"]) == (
        "check",
        "ci",
        "preview",
    )
    for job_id in ("preview", "deploy"):
        assert jobs_[job_id]["if"] == "github.ref == 'refs/heads/main'"
    assert jobs_["deploy"]["environment"] == "production"
    (preview,) = steps(jobs_["preview"], PULUMI_ACTION)
    assert (preview["with"]["command"], preview["with"]["stack-name"]) == ("preview", "prod")
    assert preview["with"]["policyPackConfigs"] == "policy/production.json"
    others = [(n, j) for n, j, _, s in _pulumi_runs("up") if s["with"]["stack-name"] == "prod"]
    assert others == [("deploy-prod", "deploy")]


def test_drift_is_checked_nightly_off_the_hour_for_every_stack() -> None:
    workflow = WORKFLOW["drift"]
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    (cron,) = (entry["cron"] for entry in workflow["on"]["schedule"])
    minute, hour, *_ = cron.split()
    assert minute.isdigit() and 0 < int(minute) < 60 and hour.isdigit()
    job = workflow["jobs"]["drift"]
    assert matrix_stacks(job) == STACKS
    assert _environments(job) == PREVIEW_ENVIRONMENTS
    assert job["strategy"]["fail-fast"] is False
    assert job["concurrency"] == {
        "group": "pulumi-${{ matrix.stack }}",
        "cancel-in-progress": False,
        "queue": "max",
    }
    run = script(job)
    assert re.search(r"pulumi preview --stack \"\$STACK\" --refresh --expect-no-changes", run)
    assert "status=$?" in run and "7)" in run  # drift told apart from failures
    (install,) = steps(job, PULUMI_ACTION)
    assert "command" not in install["with"]  # installs the CLI only
    # Against the commit of the stack's last successful update, not main's newest.
    order = [s.get("id") or s.get("run") or s.get("uses", "").split("@")[0] for s in steps(job)]
    assert order.index("deployed") < order.index("make runtime") < order.index("preview")
    deployed = str(next(s for s in steps(job) if s.get("id") == "deployed")["run"])
    assert 'select(.kind == "update" and .result == "succeeded")' in deployed
    assert (
        '.environment["git.head"]' in deployed
        and 'git checkout --quiet --detach "$sha"' in deployed
    )
    assert "^[0-9a-f]{40}$" in deployed  # what the state says is checked before git sees it
    # Every outcome is reported: drift, a failed preview, and a step before it failing.
    issue, verdict = steps(job)[-2:]
    for step in (issue, verdict):
        assert step["if"] == "${{ !cancelled() }}"
    script_ = issue["with"]["script"]
    assert (
        "status === '7'" in script_ and "status === '0'" in script_ and "could not run" in script_
    )
    assert "7) " in verdict["run"] and verdict["run"].count("exit 1") == 3


def test_every_pulumi_cli_is_one_version_that_exits_7_on_changes() -> None:
    pinned = {
        str(step["with"]["pulumi-version"])
        for _, _, job in jobs()
        for step in steps(job, PULUMI_ACTION)
    }
    assert len(pinned) == 1 and version(pinned.pop()) >= PULUMI_WITH_EXIT_7


def test_roles_are_read_from_the_variables_the_readme_names() -> None:
    roles = {
        (name, job_id): step["with"]["role-to-assume"]
        for name, job_id, job in jobs()
        for step in steps(job, AWS_CREDENTIALS)
    }
    for key, role in roles.items():
        environments = set(_environments(WORKFLOW[key[0]]["jobs"][key[1]]).values())
        assert environments, key  # role ARNs are environment variables
        previews = environments <= set(PREVIEW_ENVIRONMENTS.values())
        variable = "AWS_PREVIEW_ROLE_ARN" if previews else "AWS_DEPLOY_ROLE_ARN"
        assert role == f"${{{{ vars.{variable} }}}}", key


def test_the_workflows_pass_the_github_workflow_schema() -> None:
    tool = Path(sys.executable).parent / "check-jsonschema"
    if not tool.exists():
        pytest.skip("check-jsonschema is not installed (make install)")
    files = [str(p) for p in sorted(WORKFLOWS.glob("*.yml"))]
    done = subprocess.run(
        [str(tool), "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- The OIDC documents -------------------------------------------------------------------------

OIDC_PROVIDER = "arn:aws:iam::ACCOUNT_ID:oidc-provider/token.actions.githubusercontent.com"
SUBJECT_PREFIX = "repo:OWNER/REPO:"
TRUST = {
    "preview-role-trust.json": {"environment:preview"},
    "preview-production-role-trust.json": {"environment:preview-production"},
    "deploy-dev-role-trust.json": {"environment:dev"},
    "deploy-production-role-trust.json": {"environment:production"},
}
# Each stack's preview role: its trust policy, its permissions and its role name in the README.
PREVIEW_ROLES = {
    "dev": ("preview-role-trust.json", "preview-role-permissions.json", "webstack-preview"),
    "prod": (
        "preview-production-role-trust.json",
        "preview-production-role-permissions.json",
        "webstack-preview-production",
    ),
}
BUCKET_POLICY = "state-bucket-policy.json"


def _document(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((OIDC / name).read_text())
    return data


def test_the_oidc_folder_holds_the_documents_checked_here() -> None:
    permissions = [files[1] for files in PREVIEW_ROLES.values()]
    assert sorted(p.name for p in OIDC.iterdir()) == sorted([*TRUST, *permissions, BUCKET_POLICY])


@pytest.mark.parametrize("name", sorted(TRUST))
def test_trust_policies_admit_one_repository_with_github_s_token_for_sts(name: str) -> None:
    document = _document(name)
    assert document["Version"] == "2012-10-17"
    (statement,) = document["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Federated": OIDC_PROVIDER}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    # Exact matches only: no StringLike wildcards, no ForAllValues.
    assert list(statement["Condition"]) == ["StringEquals"]
    condition = statement["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    subjects = condition["token.actions.githubusercontent.com:sub"]
    subjects = [subjects] if isinstance(subjects, str) else subjects
    assert all(s.startswith(SUBJECT_PREFIX) for s in subjects)
    assert {s[len(SUBJECT_PREFIX) :] for s in subjects} == TRUST[name]


def test_each_environment_has_its_role() -> None:
    environments = {e for _, _, job in jobs() for e in _environments(job).values()}
    assert environments == {*ENVIRONMENTS.values(), *PREVIEW_ENVIRONMENTS.values()}
    for environment in ENVIRONMENTS.values():
        assert TRUST[f"deploy-{environment}-role-trust.json"] == {f"environment:{environment}"}
    for stack, (trust, _, _) in PREVIEW_ROLES.items():
        assert TRUST[trust] == {f"environment:{PREVIEW_ENVIRONMENTS[stack]}"}


def _state_objects(stack: str) -> set[str]:
    """What a preview of `stack` reads of the S3 backend: its meta file, the stack's checkpoint
    (and its .gz / .bak siblings) and the stack's update history (drift reads `git.head` there)."""
    bucket = "arn:aws:s3:::STATE_BUCKET/.pulumi"
    project = "webstack"
    return {
        f"{bucket}/meta.yaml",
        f"{bucket}/stacks/{project}/{stack}.json*",
        f"{bucket}/history/{project}/{stack}/*",
    }


@pytest.mark.parametrize("stack", sorted(PREVIEW_ROLES))
def test_a_preview_role_writes_nothing_and_reads_only_its_stack(stack: str) -> None:
    statements = _document(PREVIEW_ROLES[stack][1])["Statement"]
    grants = {(r, a) for s in statements for a in _list(s["Action"]) for r in _list(s["Resource"])}
    assert all(s["Effect"] == "Allow" for s in statements)
    assert {a for _, a in grants} == {"s3:ListBucket", "s3:GetObject", "kms:Decrypt"}
    assert {r for r, a in grants if a == "s3:GetObject"} == _state_objects(stack)
    # Its own stack's secrets-provider key, and no other.
    (key,) = {r for r, a in grants if a == "kms:Decrypt"}
    assert key == f"arn:aws:kms:us-east-1:ACCOUNT_ID:key/{stack.upper()}_KMS_KEY_ID"


def test_the_state_bucket_keeps_each_preview_role_to_its_stack() -> None:
    # ReadOnlyAccess (which the preview roles need for the look-ups and --refresh) reads every
    # S3 object: the bucket's own policy denies each role every object but its stack's.
    statements = _document(BUCKET_POLICY)["Statement"]
    denies = {
        s["Principal"]["AWS"]: set(s["NotResource"])
        for s in statements
        if s["Effect"] == "Deny" and s["Action"] == "s3:GetObject"
    }
    assert denies == {
        f"arn:aws:iam::ACCOUNT_ID:role/{role}": _state_objects(stack)
        for stack, (_, _, role) in PREVIEW_ROLES.items()
    }
    readme = (PROJECT / "README.md").read_text()
    for _, _, role in PREVIEW_ROLES.values():
        assert f"--role-name {role} " in readme
    (tls,) = (s for s in statements if s["Sid"] == "TlsOnly")
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def _list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _parliament_findings(text: str) -> list[str]:
    import parliament  # type: ignore[import-untyped]  # a dev dependency: missing fails, not skips

    example = (
        text.replace("ACCOUNT_ID", "123456789012")
        .replace("STATE_BUCKET", "example-pulumi-state")
        .replace("DEV_KMS_KEY_ID", "1234abcd-12ab-34cd-56ef-1234567890ab")
        .replace("PROD_KMS_KEY_ID", "1234abcd-12ab-34cd-56ef-1234567890ac")
    )
    policy = parliament.analyze_policy_string(example)
    return [f"{f.issue}: {f.detail}" for f in policy.findings]


@pytest.mark.parametrize("name", [*(files[1] for files in PREVIEW_ROLES.values()), BUCKET_POLICY])
def test_parliament_finds_nothing_in_the_permissions(name: str) -> None:
    assert _parliament_findings((OIDC / name).read_text()) == []


@pytest.mark.parametrize("name", sorted(TRUST))
def test_parliament_finds_nothing_in_the_trust_policies_but_what_they_are(name: str) -> None:
    # Parliament reads identity policies: a trust policy has no Resource, and its federated
    # principal is not one parliament knows. Anything else (an unknown action, say) is real.
    findings = _parliament_findings((OIDC / name).read_text())
    assert [f.split(":")[0] for f in findings] == ["UNKNOWN_FEDERATION_SOURCE", "MALFORMED"]
    assert findings[1] == "MALFORMED: Statement contains neither Resource nor NotResource"


# --- pr-comment.yml's script under node ---------------------------------------------------------

# Runs the step's script as actions/github-script does (an async function of require, github,
# context, core), once per scenario, with the API stood in for; prints what each did.
HARNESS = r"""
const fs = require('fs'), os = require('os'), path = require('path');
const { script, scenarios } = JSON.parse(fs.readFileSync(0, 'utf8'));
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const step = new AsyncFunction('require', 'github', 'context', 'core', script);
(async () => {
  const results = [];
  for (const s of scenarios) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offline-diff-'));
    fs.writeFileSync(path.join(dir, 'pr-number'), s.prNumber);
    fs.writeFileSync(path.join(dir, 'diff.md'), s.diff);
    process.env.ARTIFACT_DIR = dir;
    const r = { failed: null, notices: [], calls: [] };
    const core = { setFailed: (m) => { r.failed = m; }, notice: (m) => r.notices.push(m), info: () => {} };
    const github = {
      paginate: async (fn, params) => (await fn(params)).data,
      rest: {
        pulls: { get: async (p) => { r.calls.push(['get', p.pull_number]); return { data: s.pr }; } },
        issues: {
          listComments: async () => ({ data: s.comments }),
          createComment: async (p) => { r.calls.push(['create', p.issue_number, p.body]); return { data: { id: 1 } }; },
          updateComment: async (p) => { r.calls.push(['update', p.comment_id, p.body]); return { data: {} }; },
        },
      },
    };
    const context = { repo: { owner: 'owner', repo: 'webstack' }, payload: { workflow_run: s.run } };
    await step(require, github, context, core);
    fs.rmSync(dir, { recursive: true });
    results.push(r);
  }
  console.log(JSON.stringify(results));
})().catch((e) => { console.error(e); process.exit(1); });
"""
MARKER = "<!-- webstack-offline-diff -->"
HEAD = "a" * 40
RUN: dict[str, Any] = {
    "id": 11,
    "head_sha": HEAD,
    "head_branch": "feature",
    "head_repository": {"full_name": "someone/webstack"},
    "pull_requests": [],  # as GitHub sends it for a fork's pull request
    "html_url": "https://github.invalid/owner/webstack/actions/runs/11",
}
PR: dict[str, Any] = {
    "state": "open",
    "head": {"sha": HEAD, "ref": "feature", "repo": {"full_name": "someone/webstack"}},
}
BOT = {"type": "Bot", "login": "github-actions[bot]"}
OWN_RUN = RUN | {
    "head_repository": {"full_name": "owner/webstack"},
    "pull_requests": [{"number": 7}],
}
OWN_PR = PR | {"head": PR["head"] | {"repo": {"full_name": "owner/webstack"}}}
HOSTILE = (
    "## dev\ncc @octocat and @acme/team <img src=x onerror=alert(1)> <!-- hidden --> "
    "<!-- webstack-offline-diff --> user@example.com\n<details><summary>3 retagged</summary>\n</details>\n"
)


def _scenario(**changes: Any) -> dict[str, Any]:
    scenario: dict[str, Any] = {
        "prNumber": "7\n",
        "diff": "## dev\nno changes\n",
        "pr": PR,
        "comments": [],
        "run": RUN,
    }
    return scenario | changes


def _comment_script() -> str:
    (job,) = WORKFLOW["pr-comment"]["jobs"].values()
    (step,) = (s for s in steps(job) if s.get("name") == "Comment it")
    return str(step["with"]["script"])


def test_the_comment_script_validates_the_artifact_and_keeps_one_comment() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    human = {"id": 3, "user": {"type": "User", "login": "x"}, "body": f"{MARKER} quoted"}
    mine = {"id": 5, "user": BOT, "body": f"{MARKER}\nold"}
    other_app = {"id": 4, "user": {"type": "Bot", "login": "other[bot]"}, "body": f"{MARKER}\n"}
    scenarios = [
        _scenario(comments=[human]),  # 0: first comment
        _scenario(comments=[human, other_app, mine]),  # 1: this token's comment is updated
        _scenario(prNumber="7; rm -rf /"),  # 2-4: not a positive integer
        _scenario(prNumber="0"),
        _scenario(prNumber="-7"),
        _scenario(run=RUN | {"pull_requests": [{"number": 8}]}),  # 5: another PR's run
        _scenario(pr=PR | {"head": PR["head"] | {"repo": {"full_name": "other/webstack"}}}),
        _scenario(pr=PR | {"head": PR["head"] | {"sha": "b" * 40}}),  # 7: moved on
        _scenario(pr=PR | {"state": "closed"}),  # 8
        _scenario(diff="x" * 200_000),  # 9: truncated
        _scenario(run=OWN_RUN, pr=OWN_PR, diff=HOSTILE),  # 10: this repository's branch
    ]
    done = subprocess.run(
        [node, "-e", HARNESS],
        input=json.dumps({"script": _comment_script(), "scenarios": scenarios}),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)

    (created,) = results[0]["calls"][1:]
    fork = f"{MARKER}\n> [!WARNING]\n> From the fork someone/webstack: this diff is what the fork's"
    assert created[:2] == ["create", 7] and created[2].startswith(fork)
    assert "\n\n## dev\nno changes" in created[2]
    assert "Offline diff of aaaaaaa" in created[2] and results[0]["failed"] is None
    assert [c[:2] for c in results[1]["calls"]] == [["get", 7], ["update", 5]]
    for refused in results[2:5]:
        assert "not a positive integer" in refused["failed"] and refused["calls"] == []
    assert results[5]["calls"] == [] and "the run was for #8" in results[5]["failed"]
    assert results[6]["calls"] == [["get", 7]] and "is not the pull request" in results[6]["failed"]
    for skipped in results[7:9]:
        assert skipped["calls"] == [["get", 7]] and skipped["failed"] is None
        assert skipped["notices"]
    body = results[9]["calls"][1][2]
    assert len(body) <= 65536 and "(truncated" in body and body.endswith("</sub>")
    # A diff's mentions notify nobody and its HTML does not render; the diff's folds still do.
    (created,) = results[10]["calls"][1:]
    body = created[2]
    assert body.startswith(f"{MARKER}\n## dev\ncc @\u200boctocat and @\u200bacme/team ")
    assert "WARNING" not in body and body.count(MARKER) == 1
    assert "<\u200bimg src=x onerror=alert(1)>" in body and "<\u200b!-- hidden -->" in body
    assert "<details><summary>3 retagged</summary>\n</details>" in body
    assert "user@example.com" in body  # an address is no mention


# --- Installs, concurrency, the security audit ---------------------------------------------------


def _runs_pulumi(job: dict[str, Any]) -> bool:
    return bool(steps(job, PULUMI_ACTION))


def test_every_job_that_previews_or_deploys_installs_only_hash_locked_files() -> None:
    for name, job_id, job in jobs():
        run = script(job)
        if _runs_pulumi(job):
            assert "make runtime" in run and "make install" not in run, (name, job_id)
        for line in run.splitlines():  # no pip install of anything unlocked, anywhere
            assert "pip install" not in line or "--require-hashes" in line, (name, job_id, line)
    makefile = (PROJECT / "Makefile").read_text()
    recipe = makefile.split("\nruntime:\n", 1)[1].split("\n\n", 1)[0]
    installs = [line.strip() for line in recipe.splitlines() if "pip install" in line]
    assert installs == [
        "$(PY) -m pip install --quiet --require-hashes -r requirements.lock",
        "policy/venv/bin/python -m pip install --quiet --require-hashes -r policy/requirements.lock",
    ]
    assert "-m pip install --quiet --require-hashes -r requirements-dev.lock" in makefile


def test_ci_runs_once_per_workflow_and_ref_and_cancels_only_pull_requests() -> None:
    assert WORKFLOW["ci"]["jobs"]["ci"]["concurrency"] == {
        "group": "ci-${{ github.workflow }}-${{ github.ref }}",
        "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
    }


def test_zizmor_finds_nothing_above_low_but_the_waived_trigger() -> None:
    tool = Path(sys.executable).parent / "zizmor"
    if not tool.exists():
        pytest.skip("zizmor is not installed (make install)")
    audit = [str(tool), "--offline", "--persona", "auditor", "--format", "json", str(WORKFLOWS)]
    done = subprocess.run(audit, capture_output=True, text=True, timeout=60)
    findings = json.loads(done.stdout)
    severe = [
        f["ident"]
        for f in findings
        if f["determinations"]["severity"] in ("Medium", "High") and not f.get("ignored")
    ]
    assert severe == [], severe
    # The waiver is for pr-comment's workflow_run only: nothing else is waived inline.
    texts = "".join(p.read_text() for p in WORKFLOWS.glob("*.yml"))
    waivers = re.findall(r"zizmor: ignore\[([\w-]+)\]", texts)
    assert waivers == ["dangerous-triggers"]
    assert "zizmor: ignore[dangerous-triggers]" in (WORKFLOWS / "pr-comment.yml").read_text()
