"""The fault-injection soak, short: 25 real forwarder runs under faults and kills lose nothing.

The long soak (``make soak``, 1,000 runs) is the measurement; this one keeps the harness and the
guarantee checked on every ``make test``.
"""

from soak import SoakConfig, run_soak


def test_a_short_soak_on_the_real_platforms_timing_loses_nothing_and_no_id_comes_twice_different(tmp_path):
    total = run_soak(SoakConfig.short(runs=25, seed=3, workdir=tmp_path))
    result = total["stores"]["file"]
    evidence = {key: result[key] for key in ("lost_sample", "unexpected_sample", "forwarder_errors_other")}

    assert result["drained"], "the clean runs at the end did not catch up"
    assert result["lost"] == 0, evidence
    assert result["id_conflicts"] == 0, evidence
    assert total["lost"] == 0 and total["runs"] == 25 and set(total["stores"]) == {"file"}
    assert result["unexpected"] == 0 and result["runs_hung"] == 0, evidence
    assert result["lines_received"] >= result["lines_produced"] > 0
    # It was a soak, not a quiet run: the forwarder was killed and both sides misbehaved.
    assert result["runs"] == 25 and result["kills"] > 0
    assert sum(result["faults"]["api"].values()) > 0
    receivers = result["faults"]["receivers"]
    assert receivers["drop_before_ack"] + receivers["partial_ack"] > 0
