#!/usr/bin/env python3
"""Capture real syslog messages and syslog-ng directory lines as golden inputs.

Run from parser/testdata: python3 capture.py. It needs python3, logger
(util-linux) and syslog-ng; everything talks over 127.0.0.1 and unix sockets
in a temporary directory. It writes syslog/<case>/input (one message each, as
a frame splitter hands it over) and dir/<case>/input (whole files). The
expected files are then made with `go test -run Golden -update` and reviewed
by hand. Timestamps in the headers are whatever the clock said.
"""
import logging
import logging.handlers
import os
import shutil
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RECORD_B = 'B 0.-1451819092 2009-07-30 15:47:21.560343 GET /columns/t-jansen'
RECORD_A = 'A 0.-1449537908 2009-07-30 15:52:36.766928 200 80348'
RECORD_E = 'E 0.-1452006804 2009-07-30 15:54:56.842451'


def save(kind, name, data):
    d = os.path.join(HERE, kind, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'input'), 'wb') as f:
        f.write(data)


def udp_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    s.settimeout(5)
    return s


def python_handler():
    s = udp_socket()
    port = s.getsockname()[1]
    h = logging.handlers.SysLogHandler(address=('127.0.0.1', port))
    log = logging.getLogger('zc.tracelog')
    log.propagate = False
    log.addHandler(h)
    log.setLevel(logging.INFO)
    for name, fmt, rec in [
        ('python-udp-bare', '%(message)s', RECORD_B),
        ('python-udp-prefix-colon', 'acme app-8080 : %(message)s', RECORD_A),
        ('python-udp-prefix', 'acme app-8080 %(message)s', RECORD_E),
        ('python-udp-unicode', 'acme app-8080 %(message)s', RECORD_B + '/caf\u00e9'),
    ]:
        h.setFormatter(logging.Formatter(fmt))
        log.info(rec)
        save('syslog', name, s.recv(65536))
    log.removeHandler(h)
    h.close()


def logger():
    s = udp_socket()
    port = str(s.getsockname()[1])
    for name, args, msg in [
        ('logger-rfc3164', ['--rfc3164'], RECORD_B),
        ('logger-rfc3164-pid', ['--rfc3164', '--id=4242'], RECORD_A),
        ('logger-rfc3164-prefix', ['--rfc3164'], 'acme app-8080 ' + RECORD_E),
        ('logger-rfc5424', ['--rfc5424'], RECORD_B),
        ('logger-rfc5424-pid', ['--rfc5424', '--id=4242'], RECORD_A),
        ('logger-rfc5424-notq', ['--rfc5424=notq,notime'], 'acme app-8080 : ' + RECORD_E),
        ('logger-rfc5424-sd', ['--rfc5424', '--sd-id=zc@32473', '--sd-param=rid="1\\] 2"', '--msgid=trace'], RECORD_B),
    ]:
        subprocess.run(['logger', *args, '-n', '127.0.0.1', '-P', port, '-d', '-t', 'acme', msg], check=True)
        save('syslog', name, s.recv(65536))


def syslog_ng():
    d = tempfile.mkdtemp()
    bsd = udp_socket()
    tcp = socket.socket()
    tcp.bind(('127.0.0.1', 0))
    tcp.listen(1)
    probe = udp_socket()
    src = probe.getsockname()[1]
    probe.close()
    cfg = f'''@version: 3.35
options {{ keep-hostname(yes); use-dns(no); use-fqdn(no); }};
source s {{ network(ip(127.0.0.1) port({src}) transport(udp)); }};
destination bsd {{ network("127.0.0.1" port({bsd.getsockname()[1]}) transport(udp)); }};
destination ietf {{ syslog("127.0.0.1" port({tcp.getsockname()[1]}) transport(tcp)); }};
destination stock {{ file("{d}/stock.log"); }};
destination custom {{ file("{d}/custom.log" template("$HOST $PROGRAM $MSG\\n")); }};
log {{ source(s); destination(bsd); destination(ietf); destination(stock); destination(custom); }};
'''
    with open(os.path.join(d, 'sng.conf'), 'w') as f:
        f.write(cfg)
    p = subprocess.Popen(['syslog-ng', '--foreground', '--no-caps', '--cfgfile', d + '/sng.conf',
                          '--persist-file', d + '/persist', '--control', d + '/ctl', '--pidfile', d + '/pid'])
    time.sleep(2)
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = [
        ('bare', b'<14>' + RECORD_B.encode() + b'\x00'),
        ('prefix-colon', b'<14>acme app-8080 : ' + RECORD_A.encode() + b'\x00'),
        ('prefix', b'<14>acme app-8080 ' + RECORD_E.encode() + b'\x00'),
        ('logger', b'<13>Nov 21 23:22:48 vm acme[4242]: ' + RECORD_B.encode()),
    ]
    for _, m in sent:
        c.sendto(m, ('127.0.0.1', src))
    for name, _ in sent:
        save('syslog', 'syslog-ng-bsd-' + name, bsd.recv(65536))
    conn, _ = tcp.accept()
    conn.settimeout(3)
    data = b''
    try:
        while True:
            x = conn.recv(65536)
            if not x:
                break
            data += x
    except socket.timeout:
        pass
    # Undo RFC 6587 octet counting; the trailing newline stays in the message.
    for name, _ in sent:
        n, _, data = data.partition(b' ')
        msg, data = data[:int(n)], data[int(n):]
        save('syslog', 'syslog-ng-5424-' + name, msg)
    p.terminate()
    p.wait()
    for f in ('stock', 'custom'):
        with open(os.path.join(d, f + '.log'), 'rb') as fh:
            save('dir', 'syslog-ng-' + f, fh.read())
    shutil.rmtree(d)


if __name__ == '__main__':
    python_handler()
    logger()
    syslog_ng()
