from __future__ import annotations

import dataclasses
import datetime as dt

from bot.content import FileContentStore, load_bundle
from bot.settings import Settings
from handlers.answers import answer, is_expired


def test_an_expired_time_bound_fact_carries_the_out_of_date_note(content: FileContentStore) -> None:
    entry = content.get("es", "documents")
    assert entry.expires_on, "documents holds fees: it must expire"
    before = dt.date.fromisoformat(entry.expires_on) - dt.timedelta(days=1)
    after = dt.date.fromisoformat(entry.expires_on) + dt.timedelta(days=1)
    note = content.get("es", "outdated_note").text
    assert not answer(content, "es", "documents", today=before).text.endswith(note)
    stale = answer(content, "es", "documents", today=after).text
    assert stale.startswith(entry.text) and stale.endswith(note)
    assert is_expired(dataclasses.replace(entry, expires_on="2000-01-01"))
    assert not is_expired(dataclasses.replace(entry, expires_on=None))


def _store_with(settings: Settings, language: str, key: str, **changes: object) -> FileContentStore:
    bundle = load_bundle(settings.content_dir, settings.languages)
    entry = bundle.entries[language][key]
    bundle.entries[language][key] = dataclasses.replace(entry, **changes)  # type: ignore[arg-type]
    return FileContentStore(bundle, settings.default_language)


def test_an_unconfirmed_answer_says_so_and_where_to_confirm(settings: Settings) -> None:
    for language in settings.languages:
        unconfirmed = _store_with(
            settings, language, "documents", needs_review=True, confirm_at="un DUIcentro"
        )
        note = unconfirmed.get(language, "unconfirmed_note").text
        text = answer(unconfirmed, language, "documents", today=dt.date(2027, 1, 1)).text
        entry = unconfirmed.get(language, "documents")
        assert text == f"{entry.text}\n\n{note} un DUIcentro."
        confirmed = _store_with(settings, language, "documents", needs_review=False)
        plain = answer(confirmed, language, "documents", today=dt.date(2027, 1, 1)).text
        assert plain == entry.text


def test_referral_menu_offers_only_confirmed_services(settings: Settings) -> None:
    bundle = load_bundle(settings.content_dir, settings.languages)
    referrals = [
        k for k in bundle.entries["es"] if k.startswith("referral_") and k != "referral_menu"
    ]
    assert referrals, "the referral flow has places to offer once confirmed"
    store = FileContentStore(bundle, settings.default_language)
    for language in settings.languages:
        for key in referrals:
            bundle.entries[language][key] = dataclasses.replace(
                bundle.entries[language][key], needs_review=True
            )
        honest = answer(store, language, "referral_menu")
        assert honest.content_key == "referral_unavailable"
        assert honest.text == store.get(language, "referral_unavailable").text
        assert not any(b.payload.startswith("topic:referral_") for b in honest.buttons)
        chosen = referrals[0]
        bundle.entries[language][chosen] = dataclasses.replace(
            bundle.entries[language][chosen], needs_review=False
        )
        offered = answer(store, language, "referral_menu")
        assert offered.content_key == "referral_menu"
        assert [b.payload for b in offered.buttons] == [f"topic:{chosen}"]
