"""The Python side of Tests/Lab/lava-lab.sh: device dictionary, job, and what LAVA recorded.

    lava-lab.py device DICTIONARY TEMPLATES JOB OUT     render DICTIONARY as lava-server does, validate, write OUT
    lava-lab.py job JOB OUT KEY=VALUE...                 fill the example job in, validate it strictly, write OUT
    lava-lab.py results LOG EXPECTED README OUT_DIR      read lava-run's log, compare with the expected verdicts

Runs with Debian's python3 (lava-common, jinja2 and PyYAML come from Debian packages).
"""

import base64
import gzip
import io
import json
import os
import re
import sys
import tarfile

import yaml


def die(message, code=1):
    print("lava-lab.py: " + message, file=sys.stderr)
    sys.exit(code)


def load_job(path):
    with open(path) as f:
        return yaml.safe_load(f)


# ---------------------------------------------------------------------------------------------------------------
# device dictionary


def device(dictionary, templates, job_path, out):
    """Renders a device dictionary the way lava-server does (a sandboxed jinja2 environment over the dictionary's
    folder and the device-types folder, trim_blocks, the job's context as variables) and validates the result with
    lava_common's device schema."""
    import jinja2
    import jinja2.sandbox
    from lava_common.schemas import device as device_schema

    env = jinja2.sandbox.SandboxedEnvironment(
        loader=jinja2.FileSystemLoader([os.path.dirname(os.path.abspath(dictionary)), templates]),
        autoescape=False,
        trim_blocks=True,
    )
    context = load_job(job_path).get("context", {})
    text = env.get_template(os.path.basename(dictionary)).render(**context)
    data = yaml.safe_load(text)
    try:
        device_schema.validate(data)
    except Exception as e:  # voluptuous.Invalid, with the path inside the dictionary
        die(f"the rendered device dictionary does not validate: {e}")
    with open(out, "w") as f:
        f.write(text)
    qemu = data["actions"]["boot"]["methods"]["qemu"]["parameters"]
    print(f"{qemu['command']} {' '.join(qemu['options'])} {' '.join(qemu.get('extra', []))}")


# ---------------------------------------------------------------------------------------------------------------
# job


def job(template, out, settings):
    """Points the example job at local files and sets the definition's parameters, then validates it as
    lava-server would on submission (lava_common.schemas.validate, strict)."""
    from lava_common.schemas import validate

    data = load_job(template)
    values = dict(s.split("=", 1) for s in settings)
    tests = [a["test"] for a in data["actions"] if "test" in a]
    deploy = next(a["deploy"] for a in data["actions"] if "deploy" in a)
    migconform = next(d for t in tests for d in t["definitions"] if d.get("from") == "git")
    for key, value in values.items():
        if key == "kernel":
            deploy["images"]["kernel"]["url"] = value
        elif key == "ramdisk":
            deploy["images"]["ramdisk"]["url"] = value
        elif key == "repository":
            migconform["repository"] = value
        elif key.startswith("param."):
            migconform["parameters"][key[len("param."):]] = value
        else:
            die(f"unknown setting {key}")
    try:
        validate(data, strict=True)
    except Exception as e:
        die(f"the job does not validate: {e}")
    with open(out, "w") as f:
        yaml.safe_dump(data, f, sort_keys=False)
    print(f"{len(data['actions'])} actions, {sum(len(t['definitions']) for t in tests)} definitions")


# ---------------------------------------------------------------------------------------------------------------
# results


def verdict_to_lava(readme):
    """The README's table 'What each verdict becomes': verdict -> LAVA result, where the cell is one result."""
    table = {}
    with open(readme) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 3 and re.fullmatch(r"[A-Z_]+", cells[0]) and cells[2] in ("pass", "fail", "skip"):
                table[cells[0]] = cells[2]
    if "PASS" not in table or "FAIL" not in table:
        die(f"no verdict -> LAVA result table in {readme}")
    return table


def read_log(path):
    """lava-run's log: one YAML mapping a line (flow style). Returns the result lines, the target's console lines
    and the job's final result line."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    results, target, final = [], [], None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("- {"):
                line = line[2:]
            if not line.startswith("{"):
                continue
            try:
                entry = yaml.load(line, Loader=loader)
            except yaml.YAMLError:
                continue
            if not isinstance(entry, dict):
                continue
            if entry.get("lvl") == "results":
                results.append(entry["msg"])
                if entry["msg"].get("definition") == "lava" and entry["msg"].get("case") == "job":
                    final = entry["msg"]
            elif entry.get("lvl") == "target" and isinstance(entry.get("msg"), str):
                target.append(entry["msg"])
    return results, target, final


def files_from_console(lines, out_dir):
    """Decodes what the guest printed between @@LAB-FILE-BEGIN NAME and @@LAB-FILE-END."""
    got, name, chunks = {}, None, []
    for line in lines:
        line = line.strip()
        if line.startswith("@@LAB-FILE-BEGIN "):
            name, chunks = line.split(" ", 1)[1], []
        elif line.startswith("@@LAB-FILE-END") and name:
            data = base64.b64decode("".join(chunks))
            with open(os.path.join(out_dir, name), "wb") as f:
                f.write(data)
            got[name] = data
            name = None
        elif name is not None and re.fullmatch(r"[A-Za-z0-9+/=]+", line):
            chunks.append(line)  # the shell's trace lines ("+ base64 ...") and kernel messages are not
    return got


def tap_names(tap_text):
    """Engine-safe name -> case id, from report.tap (the YAML block's id when the name differs)."""
    names, last = {}, None
    for line in tap_text.splitlines():
        m = re.match(r"(?:not )?ok \d+ (\S+)", line)
        if m:
            last = m.group(1)
            names[last] = last
            continue
        m = re.match(r'\s+id: "(.*)"$', line)
        if m and last:
            names[last] = json.loads('"' + m.group(1) + '"')
    return names


def results(log, expected_path, readme, out_dir):
    table = verdict_to_lava(readme)
    expected = {}
    with open(expected_path) as f:
        for line in f:
            fields = line.split("#", 1)[0].split()  # comments: whole lines, or after the verdict
            if len(fields) == 2:
                expected[fields[0]] = fields[1]
            elif fields:
                die(f"{expected_path}: not 'CASE VERDICT': {line.strip()}")
    unmapped = sorted({v for v in expected.values() if v not in table})
    if unmapped:
        die(f"the README's table gives no single LAVA result for {', '.join(unmapped)}")

    os.makedirs(out_dir, exist_ok=True)
    recorded, console, final = read_log(log)
    problems = []
    if final is None:
        problems.append("lava-run logged no job result")
    elif final.get("result") != "pass":
        problems.append(f"the job ended {final.get('result')}: {final.get('error_msg', '')}".strip())

    # What the guest wrote: the report folder, packed by the job's second definition.
    files = files_from_console(console, out_dir)
    report, names = None, {}
    if "migconform-report.tar.gz" in files:
        with tarfile.open(fileobj=io.BytesIO(files["migconform-report.tar.gz"])) as tar:
            tar.extractall(out_dir)
        with open(os.path.join(out_dir, "report.json")) as f:
            report = json.load(f)
        with open(os.path.join(out_dir, "report.tap")) as f:
            names = tap_names(f.read())
    else:
        problems.append("the guest's report folder did not come back (no migconform-report.tar.gz on the console)")

    # LAVA names a definition's results by its index and name in the test action: 0_migconform
    cases = [r for r in recorded if re.sub(r"^\d+_", "", str(r.get("definition"))) == "migconform"]
    seen = {}
    for r in cases:
        name = r["case"]
        case = names.get(name, name)
        if case in seen:
            problems.append(f"{case}: recorded twice")
        seen[case] = r["result"]
    mismatches = []
    for case, verdict in expected.items():
        want = table[verdict]
        got = seen.get(case)
        if got is None:
            mismatches.append(f"{case}: not recorded by LAVA (expected {verdict} -> {want})")
        elif got != want:
            mismatches.append(f"{case}: LAVA recorded {got}, expected {verdict} -> {want}")
    for case in seen:
        if case not in expected:
            mismatches.append(f"{case}: recorded by LAVA ({seen[case]}) but not in {os.path.basename(expected_path)}")
    if report is not None:
        verdicts = {c["id"]: c["verdict"] for c in report["cases"]}
        for case, verdict in expected.items():
            if verdicts.get(case) != verdict:
                mismatches.append(f"{case}: report.json says {verdicts.get(case)}, expected {verdict}")
        for case in verdicts:
            if case not in expected:
                mismatches.append(f"{case}: in report.json ({verdicts[case]}) but not expected")

    counts = {}
    for result in seen.values():
        counts[result] = counts.get(result, 0) + 1
    with open(os.path.join(out_dir, "lava-results.txt"), "w") as f:
        for r in cases:
            f.write(f"{r.get('set', '-')} {r['case']} {r['result']}\n")
    if final is not None:
        print(f"LAVA job: {final.get('result')}" + (f" ({final['error_msg']})" if final.get("error_msg") else ""))
    print(f"LAVA recorded {len(seen)} cases of {len(expected)} expected: "
          + ", ".join(f"{k} {counts.get(k, 0)}" for k in ("pass", "fail", "skip", "unknown")))
    if report is not None:
        summary = report.get("summary", {})
        print(f"report.json from the guest: {len(report['cases'])} cases, conformant: {summary.get('conformant')}")
    print(f"mismatches: {len(mismatches)}")
    for m in mismatches[:20]:
        print("  " + m)
    if len(mismatches) > 20:
        print(f"  ... and {len(mismatches) - 20} more (all of them in {out_dir}/mismatches.txt)")
    with open(os.path.join(out_dir, "mismatches.txt"), "w") as f:
        f.write("".join(m + "\n" for m in mismatches))
    for p in problems:
        print("problem: " + p)
    return 0 if not mismatches and not problems else 1


def main(argv):
    if len(argv) >= 5 and argv[1] == "device":
        device(*argv[2:6])
    elif len(argv) >= 4 and argv[1] == "job":
        job(argv[2], argv[3], argv[4:])
    elif len(argv) == 6 and argv[1] == "results":
        sys.exit(results(*argv[2:6]))
    else:
        die(__doc__.strip(), 2)


if __name__ == "__main__":
    main(sys.argv)
