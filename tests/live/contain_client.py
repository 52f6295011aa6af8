#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# Database clients of live_contain (tests/live/contain/clients.c starts them;
# psycopg2, Debian's).
#   extract USER N       a server-side cursor over N rows, 1,000 a fetch
#   reconnect USER SECS  a 5,000-row query on a new connection every 0.3 s
#   pool USER SECS       one pooled connection switching application_name
#                        between portail/alice (20 rows) and portail/mallory
#                        (5,000 rows), reconnecting when it is ended
#   honest USER SECS     20 rows every 0.1 s on one connection
# A fifth argument "tls": over TCP with sslmode=require (else the unix
# socket, no TLS). One line per step: "KIND TIME ROWS [error]".
import os, sys, time, psycopg2
mode, user, arg = sys.argv[1], sys.argv[2], float(sys.argv[3])
tls = len(sys.argv) > 4
def conn():
    if tls:
        return psycopg2.connect(host='127.0.0.1', port=os.environ['PGPORT'], user=user,
                                dbname='postgres', sslmode='require')
    return psycopg2.connect(host=os.environ['PGHOST'], port=os.environ['PGPORT'],
                            user=user, dbname='postgres', sslmode='disable')
def say(*a):
    print(*a, flush=True)
def err(e):
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
if mode == 'extract':
    total = 0
    try:
        c = conn(); c.autocommit = False
        cur = c.cursor(name='x'); cur.itersize = 1000
        cur.execute('SELECT g, repeat(chr(120), 64) FROM generate_series(1, %d) g' % arg)
        while True:
            rows = cur.fetchmany(1000)
            if not rows:
                break
            total += len(rows)
            say('ROWS %.6f %d' % (time.time(), total))
            time.sleep(0.002)
    except Exception as e:
        say('END %.6f %d %s' % (time.time(), total, err(e))); sys.exit(3)
    say('DONE %.6f %d' % (time.time(), total))
elif mode == 'reconnect':
    end = time.time() + arg
    while time.time() < end:
        n, e = 0, ''
        try:
            c = conn(); cur = c.cursor()
            cur.execute('SELECT g FROM generate_series(1, 5000) g'); n = len(cur.fetchall())
            c.close()
        except Exception as x:
            e = err(x)
        say('TRY %.6f %d %s' % (time.time(), n, e))
        time.sleep(0.3)
elif mode == 'pool':
    end, c = time.time() + arg, None
    while time.time() < end:
        who = 'alice'
        try:
            if c is None:
                c = conn(); c.autocommit = True
            cur = c.cursor()
            cur.execute("SET application_name = 'portail/alice'")
            cur.execute('SELECT g FROM generate_series(1, 20) g')
            say('ALICE %.6f %d' % (time.time(), len(cur.fetchall())))
            who = 'mallory'
            cur.execute("SET application_name = 'portail/mallory'")
            cur.execute('SELECT g, repeat(chr(120), 64) FROM generate_series(1, 5000) g')
            say('MALLORY %.6f %d' % (time.time(), len(cur.fetchall())))
        except Exception as e:
            say('BROKEN %.6f 0 %s %s' % (time.time(), who, err(e))); c = None
        time.sleep(0.05)
else:
    end, q = time.time() + arg, 0
    try:
        c = conn(); c.autocommit = True; cur = c.cursor()
        say('PID %d' % c.get_backend_pid())
        while time.time() < end:
            cur.execute('SELECT g FROM generate_series(1, 20) g'); q += len(cur.fetchall()) == 20
            time.sleep(0.1)
    except Exception as e:
        say('END %.6f %d %s' % (time.time(), q, err(e))); sys.exit(3)
    say('DONE %.6f %d' % (time.time(), q))
