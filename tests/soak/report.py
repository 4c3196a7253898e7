"""The soak's result as a Markdown table (for a terminal and the README) and as JSON."""

import json
from pathlib import Path

from .runs import AFTER_ACK, AFTER_SAVE, BEFORE_ACK, OVERLAPPING


def table(result: dict) -> str:
    """The figures per store and in all, then each store's detail."""
    minutes, seconds = divmod(round(result["duration_seconds"]), 60)
    lines = [f"| logfwd soak, seed {result['seed']}, {minutes} min {seconds} s, the real platform's timing on "
             "| runs | kills | lines produced | lines received | **lost** | **id conflicts** | resent lines | "
             "resent per kill |", "|---|---|---|---|---|---|---|---|---|"]
    rows = list(result["stores"].items()) + [("**all stores**", result)]
    for name, figures in rows:
        lines.append(f"| {name} | {figures['runs']} | {figures['kills']} | {figures['lines_produced']} | "
                     f"{figures['lines_received']} | **{figures['lost']}** | **{figures['id_conflicts']}** | "
                     f"{figures['resent_lines']} | {figures['resent_per_kill']} |")
    for name, store in result["stores"].items():
        lines += ["", f"### {name}", "", store_table(store)]
    return "\n".join(lines)


def store_table(result: dict) -> str:
    api, receivers = result["faults"]["api"], result["faults"]["receivers"]
    phases = result["kills_by_phase"]
    strategies = result["kills_by_strategy"]
    minutes, seconds = divmod(round(result["duration_seconds"]), 60)
    errors = ", ".join(f"{kind}: {count}" for kind, count in sorted(result["forwarder_errors"].items())) or "none"
    rows = [
        ("seed, duration", f"{result['seed']}, {minutes} min {seconds} s"),
        ("forwarder runs under faults", f"{result['runs']} (then {result['drain_runs']} clean drain runs)"),
        ("runs started while another was running", result["runs_overlapping"]),
        ("runs that finished: stopped at the deadline / past it / skipped (lease)",
         f"{result['runs_completed']}: {result['runs_stopped_at_deadline']} / {result['runs_past_deadline']}"
         f" / {result['runs_skipped_by_lease']}"),
        ("SIGKILLs", f"{result['kills']}: {strategies.get('timed', 0)} at a random time, "
                     f"{strategies.get('after_ack', 0)} 0.2-3 ms after a receiver stored a window "
                     "(its ACK follows at once)"),
        ("... landed before any window was stored", _kills(phases[BEFORE_ACK])),
        ("... landed after an ACK was sent, before the checkpoint was replaced", _kills(phases[AFTER_ACK])),
        ("... landed after the checkpoint was replaced", _kills(phases[AFTER_SAVE])),
        ("... landed while another run was alive (not attributed)", _kills(phases[OVERLAPPING])),
        ("... landed inside the checkpoint save (its temporary file was left behind)",
         result["checkpoint_temp_files_left"] if result["checkpoint_temp_files_left"] is not None else "n/a"),
        ("API faults injected", ", ".join(f"{kind}: {count}" for kind, count in api.items())),
        ("receiver faults injected",
         f"dropped before the ACK: {receivers['drop_before_ack']}, partial ACK then dropped: "
         f"{receivers['partial_ack']}, windows with the ACK held past window_timeout (keepalives sent): "
         f"{receivers['windows_with_ack_held_past_window_timeout']}, windows with a slow ACK: "
         f"{receivers['windows_with_slow_ack']}, keepalives: {receivers['keepalives']}, restarts: "
         f"{receivers['restarts']}, closed port in logstash_hosts: {receivers['closed_hosts_in_logstash_hosts']}"),
        ("errors the forwarder reported", errors),
        ("activations produced", result["activations_produced"]),
        ("lines produced", result["lines_produced"]),
        ("lines received", result["lines_received"]),
        ("**lines lost**", f"**{result['lost']}**"),
        ("**id conflicts (one `_id`, two contents)**", f"**{result['id_conflicts']}**"),
        ("lines re-sent (copies beyond the first of an `_id`)", result["resent_lines"]),
        ("... per SIGKILL (all re-sends counted against the kills)", result["resent_per_kill"]),
        ("activations the platform could not parse (left out of docs=true lists)", result["unlisted_activations"]),
        ("... their lines forwarded anyway (found in docs=false summaries, read by id)",
         result.get("unlisted_forwarded", 0)),
    ]
    if result["unexpected"] or result["id_conflicts"] or result["runs_hung"] or not result["drained"]:
        rows.append(("unexpected ids / id conflicts / hung runs / drained",
                     f"{result['unexpected']} / {result['id_conflicts']} / {result['runs_hung']} / "
                     f"{result['drained']}"))
    lines = [f"| {result['parameters']['checkpoint'].split('@')[-1]} | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def _kills(by_strategy: dict) -> str:
    return (f"{sum(by_strategy.values())} ({by_strategy.get('timed', 0)} timed, "
            f"{by_strategy.get('after_ack', 0)} after an ACK)")


def write_json(result: dict, path: Path) -> None:
    path.write_text(json.dumps(result, indent=2) + "\n")
