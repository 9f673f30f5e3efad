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
# The GitHub environment each stack's `pulumi up` runs in (its OIDC subject names it).
ENVIRONMENTS = {"dev": "dev", "prod": "production"}
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
    ("deploy-prod", "check"): {},
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


def test_previews_are_for_this_repositorys_branches_where_aws_is_connected() -> None:
    job = WORKFLOW["pull-request"]["jobs"]["preview"]
    assert "vars.AWS_PREVIEW_ROLE_ARN != ''" in job["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    assert matrix_stacks(job) == STACKS
    for entry in job["strategy"]["matrix"]["include"]:
        expected = "policy/production.json" if entry["stack"] in PRODUCTION_STACKS else ""
        assert entry["policy-config"] == expected
    assert job["concurrency"]["cancel-in-progress"] is True
    assert "matrix.stack" in job["concurrency"]["group"]
    assert "github.event.pull_request.number" in job["concurrency"]["group"]
    (preview,) = steps(job, PULUMI_ACTION)
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["stack-name"] == "${{ matrix.stack }}"
    assert preview["with"]["policyPacks"] == "policy"
    assert preview["with"]["policyPackConfigs"] == "${{ matrix.policy-config }}"
    assert preview["with"]["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert "environment" not in job  # the preview role trusts `pull_request`, not environments


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
    verdict = steps(job)[-1]
    assert "7) " in verdict["run"] and verdict["run"].count("exit 1") == 2


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
        deploys = "environment" in WORKFLOW[key[0]]["jobs"][key[1]]
        variable = "AWS_DEPLOY_ROLE_ARN" if deploys else "AWS_PREVIEW_ROLE_ARN"
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
    "preview-role-trust.json": {"pull_request", "ref:refs/heads/main"},
    "deploy-dev-role-trust.json": {"environment:dev"},
    "deploy-production-role-trust.json": {"environment:production"},
}


def _document(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((OIDC / name).read_text())
    return data


def test_the_oidc_folder_holds_the_documents_checked_here() -> None:
    assert sorted(p.name for p in OIDC.iterdir()) == sorted(
        [*TRUST, "preview-role-permissions.json"]
    )


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


def test_each_deploy_environment_has_its_role() -> None:
    environments = {job["environment"] for _, _, job in jobs() if "environment" in job}
    assert environments == set(ENVIRONMENTS.values())
    for environment in environments:
        assert TRUST[f"deploy-{environment}-role-trust.json"] == {f"environment:{environment}"}


def test_the_preview_role_writes_only_stack_locks_and_only_decrypts() -> None:
    statements = _document("preview-role-permissions.json")["Statement"]
    grants = {(s["Resource"], a) for s in statements for a in _list(s["Action"])}
    assert all(s["Effect"] == "Allow" for s in statements)
    writes = {g for g in grants if re.match(r"s3:(Put|Delete)", g[1])}
    assert writes == {
        ("arn:aws:s3:::STATE_BUCKET/.pulumi/locks/*", "s3:PutObject"),
        ("arn:aws:s3:::STATE_BUCKET/.pulumi/locks/*", "s3:DeleteObject"),
    }
    assert {a for _, a in grants if a.startswith("kms:")} == {"kms:Decrypt"}
    assert all("*" not in resource.split(":")[-1].split("/")[0] for resource, _ in grants)


def _list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _parliament_findings(text: str) -> list[str]:
    parliament = pytest.importorskip("parliament")
    example = (
        text.replace("ACCOUNT_ID", "123456789012")
        .replace("STATE_BUCKET", "example-pulumi-state")
        .replace("KMS_KEY_ID", "1234abcd-12ab-34cd-56ef-1234567890ab")
    )
    policy = parliament.analyze_policy_string(example)
    return [f"{f.issue}: {f.detail}" for f in policy.findings]


def test_parliament_finds_nothing_in_the_preview_permissions() -> None:
    assert _parliament_findings((OIDC / "preview-role-permissions.json").read_text()) == []


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
    assert created[:2] == ["create", 7] and created[2].startswith(f"{MARKER}\n## dev\nno changes")
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
