"""User errors read from the upstreams' refusals: one wording for one mistake."""

from __future__ import annotations

import pytest

from gateway.errors import UpstreamRejected
from gateway.schema.user_errors import moneybird_user_errors, monite_user_errors


@pytest.mark.parametrize("said", ["is required", "can't be blank", "can\u2019t be blank"])
def test_a_missing_value_reads_the_same_from_moneybird(said: str) -> None:
    refusal = UpstreamRejected(
        "refused", upstream="Moneybird", status=422, body={"error": {"firstname": [said]}}
    )
    [error] = moneybird_user_errors(refusal, id_field=["id"])
    assert (error.field, error.message) == (["input", "firstname"], "is required")


def test_a_missing_value_reads_the_same_from_monite() -> None:
    refusal = UpstreamRejected(
        "refused",
        upstream="Monite",
        status=422,
        body={
            "detail": [{"loc": ["body", "first_name"], "msg": "Field required", "type": "missing"}]
        },
    )
    [error] = monite_user_errors(refusal, id_field=["id"])
    assert (error.field, error.message) == (["input", "firstName"], "is required")


def test_other_messages_pass_as_the_upstream_wrote_them() -> None:
    refusal = UpstreamRejected(
        "refused",
        upstream="Moneybird",
        status=422,
        body={"error": {"customer_id": ["has already been taken"]}},
    )
    [error] = moneybird_user_errors(refusal, id_field=["id"])
    assert error.message == "has already been taken"
