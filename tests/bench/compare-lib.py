#!/usr/bin/env python3
"""Helpers for tests/bench/compare (not part of `make check`).

  first  SRC T0_NS|now DEADLINE_S OFFSET LENGTH URL|PATH|glob:PATTERN [CMD...]
         Polls until OFFSET..OFFSET+LENGTH-1 of the URL (HTTP range GET, a
         fresh connection per try) or PATH (open + pread, e.g. through a
         FUSE mount) can be read; prints the ms from T0_NS (a
         `date +%s%N` taken when the torrent was handed over) to the first
         byte, then checks the bytes against SRC. With CMD, the clock
         starts, then CMD runs (the hand-over), then the polling. On
         failure prints "FAIL <reason>" and exits 1.
  tree   PID  Prints "TICKS HWM_KIB NPROC" for PID and all its descendants:
         utime+stime (+ reaped children's) and the sum of VmHWM.
  direct SRC  Direct read of SRC: "TTFB_MS SEEK_MS MB_S CPU_S" (64 KiB at
         0, 1 MiB at 70 %, then the whole file with 1 MiB reads).
  report CSV OUTDIR
         The table (markdown, ratios to reelgate) on stdout and in
         OUTDIR/table.md, and OUTDIR/chart.png drawn with gnuplot.
"""
import csv
import glob
import http.client
import os
import resource
import subprocess
import sys
import time
import urllib.parse


def now_ns():
    return time.time_ns()


def try_http(url, off, length, tmo):
    u = urllib.parse.urlsplit(url)
    path = u.path + ('?' + u.query if u.query else '')
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=max(1.0, tmo))
    try:
        c.request('GET', path, headers={'Range': 'bytes=%d-%d' % (off, off + length - 1)})
        r = c.getresponse()
        if r.status not in (200, 206):
            body = r.read(200)
            return None, None, 'HTTP %d %s' % (r.status, body[:120].decode('latin-1', 'replace').strip())
        first = r.read(1)
        t_first = now_ns()
        if not first:
            return None, None, 'empty body'
        if r.status == 200 and off > 0:
            # no range support: skip to the offset the slow way
            rest = r.read(off - 1 + length)
            data = (first + rest)[off:off + length]
        else:
            data = first + r.read(length - 1)
        return t_first, data, None
    except (OSError, http.client.HTTPException) as e:
        return None, None, '%s: %s' % (type(e).__name__, e)
    finally:
        c.close()


def try_file(path, off, length):
    if path.startswith('glob:'):
        found = sorted(glob.glob(path[5:], recursive=True))
        if not found:
            return None, None, 'no file matches ' + path[5:]
        path = found[0]
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        return None, None, 'open: %s' % e
    try:
        got = os.pread(fd, 65536 if length > 65536 else length, off)
        t_first = now_ns()
        if not got:
            return None, None, 'read returned EOF'
        data = got
        while len(data) < length:
            b = os.pread(fd, min(1048576, length - len(data)), off + len(data))
            if not b:
                break
            data += b
        return t_first, data, None
    except OSError as e:
        return None, None, 'read: %s' % e
    finally:
        os.close(fd)


def cmd_first(a):
    src, t0, deadline, off, length, target = a[0], a[1], float(a[2]), int(a[3]), int(a[4]), a[5]
    t0 = now_ns() if t0 == 'now' else int(t0)
    if len(a) > 6:  # the hand-over itself (an API POST): timed from here
        subprocess.run(a[6:], stdout=sys.stderr, timeout=60)
    end = time.monotonic() + deadline
    err = 'never tried'
    tries = 0
    while True:
        tries += 1
        if target.startswith('http://'):
            t, data, err = try_http(target, off, length, min(30.0, end - time.monotonic()))
        else:
            t, data, err = try_file(target, off, length)
        if t is not None:
            break
        if time.monotonic() > end:
            print('FAIL no data within %.0f s (%d tries; last: %s)' % (deadline, tries, err))
            return 1
        time.sleep(0.02)
    with open(src, 'rb') as f:
        f.seek(off)
        want = f.read(length)
    if data != want:
        print('FAIL wrong bytes at offset %d (%d bytes read)' % (off, len(data)))
        return 1
    print('%.1f' % ((t - t0) / 1e6))
    return 0


def children_map():
    kids = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                s = f.read()
            ppid = int(s[s.rindex(')') + 2:].split()[1])
            kids.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError):
            pass
    return kids


def proc_stats(pid, root):
    with open('/proc/%d/stat' % pid) as f:
        s = f.read()
    fields = s[s.rindex(')') + 2:].split()
    ticks = int(fields[11]) + int(fields[12])
    if root:
        ticks += int(fields[13]) + int(fields[14])
    hwm = 0
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmHWM:'):
                hwm = int(line.split()[1])
    return ticks, hwm


def cmd_tree(a):
    root = int(a[0])
    kids = children_map()
    todo, seen = [root], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(kids.get(p, []))
    ticks = hwm = n = 0
    for p in seen:
        try:
            t, h = proc_stats(p, p == root)
        except (OSError, ValueError):
            continue
        ticks += t
        hwm += h
        n += 1
    print(ticks, hwm, n)
    return 0


def cmd_direct(a):
    src = a[0]
    size = os.path.getsize(src)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t = now_ns()
    fd = os.open(src, os.O_RDONLY)
    os.pread(fd, 65536, 0)
    ttfb = (now_ns() - t) / 1e6
    os.close(fd)
    off = size * 7 // 10 + 12345
    t = now_ns()
    fd = os.open(src, os.O_RDONLY)
    os.pread(fd, 1048576, off)
    seek = (now_ns() - t) / 1e6
    got = 0
    t = now_ns()
    buf = bytearray(1048576)
    os.lseek(fd, 0, 0)
    with os.fdopen(fd, 'rb', buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            got += n
    el = (now_ns() - t) / 1e9
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print('%.3f %.3f %.1f %.3f %d' % (ttfb, seek, got / el / 1e6, cpu, got))
    return 0


# ------------------------------------------------------------------ report --

TOOLS = [  # (key, label, group)
    ('reelgate-http', 'reelgate HTTP', 'http'),
    ('peerflix', 'peerflix', 'http'),
    ('webtorrent', 'webtorrent-cli', 'http'),
    ('nginx', 'nginx (file done)', 'http'),
    ('reelgate-fuse', 'reelgate FUSE', 'fuse'),
    ('btfs', 'btfs', 'fuse'),
    ('direct', 'direct read', 'fuse'),
]
BASE = {'http': 'reelgate-http', 'fuse': 'reelgate-fuse'}
METRICS = [  # (key, label, lower_is_better)
    ('cold_ttfb_ms', 'cold time to first byte (ms)', True),
    ('seek_ttfb_ms', 'first byte after a seek to 70 % (ms)', True),
    ('full_mbs', 'full-file throughput (MB/s)', False),
    ('cpu_s_per_gb', 'CPU seconds per GB', True),
    ('peak_rss_mib', 'peak RSS, VmHWM of the process tree (MiB)', True),
    ('storm_s', '100-title scanner storm, wall time of the scan (s)', True),
    ('storm_total_s', '100-title storm from the hand-over (adds / mounts) (s)', True),
    ('storm_failed', '100-title storm: failed probes', True),
    ('storm_cpu_s', '100-title storm: CPU seconds', True),
    ('storm_rss_mib', '100-title storm: peak RSS (MiB)', True),
]


def fmt(v):
    if v == int(v) and abs(v) < 1e6:
        return '%d' % v
    if v >= 100:
        return '%.0f' % v
    if v >= 10:
        return '%.1f' % v
    return '%.2f' % v


def cmd_report(a):
    path, outdir = a[0], a[1]
    vals, errs = {}, {}
    with open(path, newline='') as f:
        for row in csv.DictReader(f):
            k = (row['tool'], row['metric'])
            if row['status'] == 'ok' and row['value'] != '':
                vals[k] = float(row['value'])
                errs.pop(k, None)
            else:
                errs[k] = row['error'] or row['status']
                vals.pop(k, None)
    used = [m for m in METRICS if any((t[0], m[0]) in vals or (t[0], m[0]) in errs for t in TOOLS)]
    tools = [t for t in TOOLS if any((t[0], m[0]) in vals or (t[0], m[0]) in errs for m in METRICS)]
    notes = []
    lines = ['| metric | ' + ' | '.join(t[1] for t in tools) + ' |',
             '|---|' + '---:|' * len(tools)]
    for mk, ml, low in used:
        cells = []
        for tk, tl, grp in tools:
            k = (tk, mk)
            if k in vals:
                v = vals[k]
                base = vals.get((BASE[grp], mk))
                c = fmt(v)
                if tk != BASE[grp] and base is not None and base > 0 and v > 0:
                    c += ' (%sx)' % fmt(v / base)
                cells.append(c)
            elif k in errs:
                notes.append('%s, %s: %s' % (tl, ml, errs[k]))
                cells.append('FAILED [%d]' % len(notes))
            else:
                cells.append('–')
        lines.append('| %s | %s |' % (ml, ' | '.join(cells)))
    text = '\n'.join(lines) + '\n'
    text += ('\nRatios in parentheses: the tool\'s value / reelgate\'s over the same '
             'interface (HTTP columns against reelgate HTTP, FUSE columns and the '
             'direct read against reelgate FUSE). For throughput higher is better; '
             'for every other row lower is better.\n')
    if notes:
        text += '\n' + '\n'.join('[%d] %s' % (i + 1, n) for i, n in enumerate(notes)) + '\n'
    sys.stdout.write(text)
    with open(os.path.join(outdir, 'table.md'), 'w') as f:
        f.write(text)
    chart(outdir, vals, errs, tools, used)
    return 0


def chart(outdir, vals, errs, tools, used):
    """One panel per row; a panel shows the tools measured (or failed) in
    it; log scale where the values span orders of magnitude."""
    dat = os.path.join(outdir, 'chart.dat')
    colors = {'http': '0x1f77b4', 'fuse': '0x2ca02c'}
    panels = []
    with open(dat, 'w') as f:
        for mk, ml, low in used:
            if mk == 'storm_failed':
                continue
            rows = [(tk, tl, grp) for tk, tl, grp in tools if (tk, mk) in vals or (tk, mk) in errs]
            if not rows:
                continue
            pos = [vals[(tk, mk)] for tk, tl, grp in rows if (tk, mk) in vals and vals[(tk, mk)] > 0]
            log = bool(pos) and max(pos) / min(pos) > 50
            f.write('# %s\n' % mk)
            for i, (tk, tl, grp) in enumerate(rows):
                if (tk, mk) in vals:
                    v = vals[(tk, mk)]
                    f.write('%d "%s" %g "%s" "" %s\n' % (i, tl, v, '%.3g' % v, colors[grp]))
                else:  # no box, a red FAILED near the axis
                    f.write('%d "%s" NaN "" "FAILED" %s %g\n' % (i, tl, colors[grp], min(pos) if (log and pos) else 0))
            f.write('\n\n')
            panels.append((mk, ml, low, log, min(pos) if pos else 1))
    cols = 2
    nrows = (len(panels) + cols - 1) // cols
    gp = ['set terminal pngcairo size 1400,%d font "DejaVu Sans,10"' % (340 * nrows),
          'set output "%s"' % os.path.join(outdir, 'chart.png'),
          'set multiplot layout %d,%d title "reelgate vs peerflix, webtorrent-cli, btfs, nginx and a direct read '
          '(one loopback swarm; blue: HTTP, green: FUSE / file)"' % (nrows, cols),
          'set style fill solid 0.8 border -1', 'set boxwidth 0.7', 'set grid ytics',
          'set xtics rotate by -25 scale 0 font ",9"', 'unset key']
    for idx, (mk, ml, low, log, lo) in enumerate(panels):
        arrow = '(lower is better)' if low else '(higher is better)'
        gp.append('set title "%s %s%s"' % (ml, arrow, ', log scale' if log else ''))
        if log:
            gp.append('set logscale y; set yrange [%g:*]' % (lo / 3))
        else:
            gp.append('unset logscale y; set yrange [0:*]')
        gp.append('plot "%s" index %d using 1:3:6:xtic(2) with boxes lc rgb variable, '
                  '"" index %d using 1:3:4 with labels offset 0,0.7 font ",8", '
                  '"" index %d using 1:7:5 with labels offset 0,0.7 tc rgb "#c00000"'
                  % (dat, idx, idx, idx))
    gp.append('unset multiplot')
    gpf = os.path.join(outdir, 'chart.gp')
    with open(gpf, 'w') as f:
        f.write('\n'.join(gp) + '\n')
    try:
        r = subprocess.run(['gnuplot', gpf], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            sys.stderr.write('gnuplot failed: %s\n' % r.stderr[-500:])
    except (OSError, subprocess.TimeoutExpired) as e:
        sys.stderr.write('gnuplot not run: %s\n' % e)


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    return {'first': cmd_first, 'tree': cmd_tree, 'direct': cmd_direct,
            'report': cmd_report}[cmd](a)


if __name__ == '__main__':
    sys.exit(main())
