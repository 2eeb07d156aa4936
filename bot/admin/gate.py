"""The test gate: before publishing, run every test question through the NLU and the engine
with the draft in place, and show which answer each would now get.

The engine is given (`EngineFor`), not built here: the staff pages must not reach up
to the composition root, which alone knows how an engine is put together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.admin.i18n import gettext as _
from bot.admin.i18n import translate
from bot.content import MAX_TITLE_CHARS, FileContentStore, bundle_from_texts
from bot.content_rules import text_problems
from bot.db.content import ContentRepository, Version
from bot.settings import Settings
from kernel.types import Handle, IncomingMessage

NOT_ANSWERS = frozenset({"privacy_notice"})

# The engine's message handler over the given content: the live classifier, state kept
# in memory only (gate questions are no one's conversation).
EngineFor = Callable[[FileContentStore], Handle]


@dataclass(frozen=True)
class GateCase:
    key: str
    question: str
    before: str | None
    after: str | None

    @property
    def passes(self) -> bool:
        return self.after == self.key

    @property
    def broken(self) -> bool:
        """Worse than before: it passed with the published content and fails with the draft."""
        return self.before == self.key and not self.passes


@dataclass(frozen=True)
class GateReport:
    key: str
    cases: list[GateCase]
    errors: list[str]  # invalid content: never publishable (in the staff member's language)

    @property
    def failing(self) -> list[GateCase]:
        """Regressions: cases the published content answers right and the draft does not."""
        return [c for c in self.cases if c.broken]

    @property
    def already_failing(self) -> list[GateCase]:
        """This entry's questions that miss it today too: worth fixing, not a reason to block."""
        return [c for c in self.cases if c.key == self.key and not c.passes and not c.broken]

    @property
    def needs_override(self) -> bool:
        return bool(self.failing)


async def _answers(
    engine_for: EngineFor,
    store: FileContentStore,
    language: str,
    questions: list[tuple[str, str]],
) -> list[str | None]:
    handle = engine_for(store)
    answers: list[str | None] = []
    for index, (_key, question) in enumerate(questions):
        result = await handle(
            IncomingMessage(
                channel="gate", user_id=f"gate-{index}", text=question, language_hint=language
            )
        )
        keys = [r.content_key for r in result.replies if r.content_key not in NOT_ANSWERS]
        answers.append(keys[0] if keys else None)
    return answers


async def run_gate(
    settings: Settings, repository: ContentRepository, engine_for: EngineFor, draft: Version
) -> GateReport:
    published = await repository.published_texts()
    replaced = [
        (lang, key, body)
        for lang, key, body in published
        if (lang, key) != (draft.language, draft.key)
    ]
    errors: list[str] = []
    try:
        after_bundle = bundle_from_texts(
            [*replaced, (draft.language, draft.key, draft.body)], settings.languages
        )
        entry = after_bundle.entries[draft.language].get(draft.key)
        if entry is not None:
            if not entry.text:
                errors.append(_("the text is empty"))
            errors.extend(translate(problem) for problem in text_problems(entry))
            if not entry.title or len(entry.title) > MAX_TITLE_CHARS:
                errors.append(_("the title needs 1-{max} characters").format(max=MAX_TITLE_CHARS))
            for option in entry.options:
                if option not in after_bundle.entries[draft.language]:
                    errors.append(
                        _("option {option} is not a content key").format(option=repr(option))
                    )
    except Exception as exc:  # a broken draft must be reported, not crash the page
        # The reader's own words about what is wrong (YAML, fields) follow in English.
        return GateReport(draft.key, [], [_("the draft cannot be read: {error}").format(error=exc)])
    before = FileContentStore(
        bundle_from_texts(published, settings.languages), settings.default_language
    )
    after = FileContentStore(after_bundle, settings.default_language)
    questions = [(k, t) for k, _, t in await repository.test_questions(draft.language)]
    before_answers = await _answers(engine_for, before, draft.language, questions)
    after_answers = await _answers(engine_for, after, draft.language, questions)
    cases = [
        GateCase(key, text, b, a)
        for (key, text), b, a in zip(questions, before_answers, after_answers, strict=True)
    ]
    return GateReport(draft.key, cases, errors)
