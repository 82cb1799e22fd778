"""Prints where each demo workload's replicas run (spot / on-demand) next to what its rule asks for.

Usage: demo-split.py NODES_JSON PODS_JSON   (kubectl -o json output; PODS_JSON may hold several lists)
The expected on-demand count is the rule's target (orchestrator-features.md F4-F7): base on-demand plus
the on-demand share of the rest, rounded up; SpotReady keeps single-replica workloads on on-demand.
"""
import json
import math
import sys

RULES = {  # namespace -> (on-demand %, base on-demand, selector, rule shown)
    "shop": (30, 0, "SpotReady", "cluster-default 70/30"),
    "payments": (50, 2, "All", "payments 50/50, base 2"),
}


def lists(path):
    decoder, text = json.JSONDecoder(), open(path).read().strip()
    while text:
        doc, end = decoder.raw_decode(text)
        yield from doc["items"]
        text = text[end:].strip()


def main(nodes_path, pods_path):
    labels = {n["metadata"]["name"]: n["metadata"].get("labels", {}) for n in lists(nodes_path)}
    split = {}
    for p in lists(pods_path):
        key = (p["metadata"]["namespace"], p["metadata"]["labels"].get("app", p["metadata"]["name"]))
        capacity = labels.get(p["spec"].get("nodeName", ""), {}).get("karpenter.sh/capacity-type", "pending")
        split.setdefault(key, {}).setdefault(capacity, 0)
        split[key][capacity] += 1
    print(f"{'WORKLOAD':<16}{'RULE':<26}{'REPLICAS':>9}{'ON-DEMAND':>10}{'SPOT':>6}{'RULE WANTS ON-DEMAND':>22}")
    for (ns, app), by in sorted(split.items()):
        od_pct, base, selector, rule = RULES.get(ns, (0, 0, "All", "none"))
        n = sum(by.values())
        wants = n if selector == "SpotReady" and n <= 1 else min(n, base + math.ceil(max(0, n - base) * od_pct / 100))
        print(f"{ns + '/' + app:<16}{rule:<26}{n:>9}{by.get('on-demand', 0):>10}{by.get('spot', 0):>6}{wants:>22}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
