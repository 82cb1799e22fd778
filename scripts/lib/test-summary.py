#!/usr/bin/env python3
"""Prints how many tests ran, failed and were skipped per tier, from Surefire/Failsafe XML reports.

Tiers follow the class-name conventions: *E2EIT (whole control plane), *ApiTest (real API server),
*MockTest (fabric8 mock server or local fakes), every other *Test (pure). Exits 1 when a tier that
must run (per --require) ran no test at all.
"""
import argparse
import glob
import os
import sys
import xml.etree.ElementTree as ET

TIERS = ["unit (*Test)", "mock (*MockTest)", "api (*ApiTest)", "e2e (*E2EIT)"]


def tier_of(classname):
    simple = classname.rsplit(".", 1)[-1].split("$")[0]
    if simple.endswith("E2EIT"):
        return TIERS[3]
    if simple.endswith("ApiTest"):
        return TIERS[2]
    if simple.endswith("MockTest"):
        return TIERS[1]
    return TIERS[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--require", default="", help="comma-separated tiers (unit,mock,api,e2e) that must have run tests")
    args = parser.parse_args()

    counts = {t: {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "classes": set()} for t in TIERS}
    reports = glob.glob(os.path.join(args.root, "*", "target", "surefire-reports", "TEST-*.xml"))
    reports += glob.glob(os.path.join(args.root, "*", "target", "failsafe-reports", "TEST-*.xml"))
    for report in reports:
        suite = ET.parse(report).getroot()
        for case in suite.iter("testcase"):
            classname = case.get("classname") or suite.get("name")
            c = counts[tier_of(classname)]
            c["tests"] += 1
            c["classes"].add(classname)
            if case.find("failure") is not None:
                c["failures"] += 1
            if case.find("error") is not None:
                c["errors"] += 1
            if case.find("skipped") is not None:
                c["skipped"] += 1

    print()
    print(f"{'tier':<18}{'classes':>8}{'tests':>8}{'passed':>8}{'failed':>8}{'skipped':>9}")
    total = {"tests": 0, "failed": 0, "skipped": 0, "classes": 0}
    for t in TIERS:
        c = counts[t]
        failed = c["failures"] + c["errors"]
        passed = c["tests"] - failed - c["skipped"]
        print(f"{t:<18}{len(c['classes']):>8}{c['tests']:>8}{passed:>8}{failed:>8}{c['skipped']:>9}")
        total["tests"] += c["tests"]
        total["failed"] += failed
        total["skipped"] += c["skipped"]
        total["classes"] += len(c["classes"])
    print(f"{'total':<18}{total['classes']:>8}{total['tests']:>8}"
          f"{total['tests'] - total['failed'] - total['skipped']:>8}{total['failed']:>8}{total['skipped']:>9}")

    missing = []
    for short in filter(None, args.require.split(",")):
        tier = next(t for t in TIERS if t.startswith(short))
        ran = counts[tier]["tests"] - counts[tier]["skipped"]
        if ran == 0:
            missing.append(tier)
    if missing:
        print(f"\nno test ran in required tier(s): {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
