"""The pytest plugin (entry point ``pytest11``): Assay checks as pytest tests.

Installed with Assay, it does two things in every pytest session:

- It collects run files named ``assay*.yaml`` (or ``.yml``) and makes each check one test
  item, so ``pytest --junitxml``, ``-k``, ``-x``, xdist and every pytest report work on them.
  A check that misses its threshold fails with its result and the bar it needed; a file that
  does not validate is a collection error naming the field.
- It gives the ``assay_checks`` fixture to call checks from Python tests::

      def test_calculator(assay_checks):
          result = assay_checks.run(
              {"kind": "match", "params": {"cases": [{"input": "2+2?", "expected_output": "4"}]}},
              target={"kind": "python", "config": {"callable": "assay.examples.calculator:agent"}},
          )
          assert result.verdict.passed, result.verdict.result

  (``await assay_checks.arun(...)`` in async tests.) It is not named ``assay`` so that it
  does not collide with a project's own fixture of that name (Assay's tests have one).

Checks run in the test process like ``assay run`` (in-process engine). Unless
``ASSAY_DATABASE_URL`` / ``ASSAY_DATA_DIR`` are set, they use a fresh SQLite database in a
temporary folder per session, so tests leave no ``assay.db`` behind. The plugin is loaded by
every pytest run in an environment that has Assay, so this module imports nothing heavy
until a check runs.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from assay.services.runs import Check, CheckResult, RunFile
    from assay.settings import Settings

_WORKDIR = pytest.StashKey[Path]()


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    """Collect ``assay*.yaml`` / ``assay*.yml`` run files."""
    if file_path.name.startswith("assay") and file_path.suffix in (".yaml", ".yml"):
        return AssayFile.from_parent(parent, path=file_path)
    return None


def pytest_unconfigure(config: pytest.Config) -> None:
    workdir = config.stash.get(_WORKDIR, None)
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)


def _settings(config: pytest.Config) -> Settings:
    """Settings from the environment, with a temporary database unless one is configured.

    Like ``assay run``, an unset ``ASSAY_OUTBOUND_ALLOW`` allows every address: the tests
    call the user's own agents, on loopback as often as not.
    """
    from assay.settings import get_settings

    settings = get_settings()
    update: dict[str, Any] = {}
    if settings.outbound_allow is None:
        update["outbound_allow"] = "*"
    if "ASSAY_DATABASE_URL" not in os.environ or "ASSAY_DATA_DIR" not in os.environ:
        if _WORKDIR not in config.stash:
            config.stash[_WORKDIR] = Path(tempfile.mkdtemp(prefix="assay-pytest-"))
        workdir = config.stash[_WORKDIR]
        if "ASSAY_DATABASE_URL" not in os.environ:
            update["database_url"] = f"sqlite+aiosqlite:///{workdir / 'assay.db'}"
        if "ASSAY_DATA_DIR" not in os.environ:
            update["data_dir"] = workdir / "data"
    return settings.model_copy(update=update)


async def run_in_process(settings: Settings, run: RunFile) -> list[CheckResult]:
    """Run every check of ``run`` to its verdict in this process (the in-process engine)."""
    from assay.services.container import open_container
    from assay.services.runs import run_checks

    container = await open_container(settings)
    try:
        await container.start_engine(deliver_webhooks=False)  # like `assay run`
        return await run_checks(container, run)
    finally:
        await container.aclose()


class AssayCheckFailed(Exception):
    """A check ran and missed its threshold (or could not be scored)."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.verdict.result)
        self.result = result


class AssayFile(pytest.File):
    """A run file: its checks are its items, validated when collected."""

    def collect(self) -> Iterator[pytest.Item]:
        from assay.core.errors import ValidationFailed
        from assay.reports.cases import check_label
        from assay.services.runs import load_run_file

        try:
            run = load_run_file(self.path)
        except ValidationFailed as exc:
            raise self.CollectError(exc.message) from None
        for index, check in enumerate(run.checks):
            yield AssayCheckItem.from_parent(
                self, name=check_label(index, check), run=run, check=check
            )


class AssayCheckItem(pytest.Item):
    """One check of a run file, run on its own with the file's target and judge."""

    def __init__(self, *, run: RunFile, check: Check, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_file = run.model_copy(update={"checks": [check]})

    def runtest(self) -> None:
        [result] = asyncio.run(run_in_process(_settings(self.config), self.run_file))
        self.user_properties.append(("evaluation", result.evaluation.id))
        self.user_properties.append(("result", result.verdict.result))
        if not result.verdict.passed:
            raise AssayCheckFailed(result)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        """The verdict, the bar and the evaluation, instead of a traceback into Assay."""
        if isinstance(excinfo.value, AssayCheckFailed):
            return failure_text(excinfo.value.result)
        from assay.core.errors import AssayError

        if isinstance(excinfo.value, AssayError):
            return f"{self.path}: {excinfo.value.message}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"assay check {self.name}"


def failure_text(result: CheckResult) -> str:
    """``0% passed (CI 0-79%) n=1 (needs pass rate >= 100%)`` and the evaluation it was."""
    verdict, view = result.verdict, result.evaluation
    needs = f" (needs {verdict.needs})" if verdict.needs != "-" else ""
    error = f": {view.error}" if view.error else ""
    return f"{verdict.result}{needs}\nevaluation {view.id} {view.status.value}{error}"


class AssayRunner:
    """The ``assay_checks`` fixture: run checks against a target from a Python test."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    def _run_file(
        self, check: dict[str, Any] | Check, target: dict[str, Any], judge: str | None
    ) -> RunFile:
        from assay.services.runs import RunFile

        return RunFile.model_validate({"target": target, "judge": judge, "checks": [check]})

    async def arun(
        self, check: dict[str, Any] | Check, *, target: dict[str, Any], judge: str | None = None
    ) -> CheckResult:
        """Run one check (a run file's check: kind, params, thresholds) and return its result."""
        run = self._run_file(check, target, judge)
        [result] = await run_in_process(_settings(self._config), run)
        return result

    def run(
        self, check: dict[str, Any] | Check, *, target: dict[str, Any], judge: str | None = None
    ) -> CheckResult:
        """``arun`` for synchronous tests."""
        return asyncio.run(self.arun(check, target=target, judge=judge))


@pytest.fixture
def assay_checks(request: pytest.FixtureRequest) -> AssayRunner:
    """Run Assay checks from a test: ``assay_checks.run({...}, target={...}).verdict.passed``."""
    return AssayRunner(request.config)
