# Runs a command on a new pseudo-terminal and relays it: this process's stdin is typed at the
# terminal, the terminal's output comes out on stdout. When stdin ends, the terminal is closed (its
# session gets SIGHUP, as when a terminal window is closed). Exits with the command's status
# (128 + N when signal N ended it). For tests that must see the host as a person at a terminal does.
import os, pty, select, signal, sys

pid, master = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])

# The command's pid, for a test that signals it: the only line this relay writes to stderr.
sys.stderr.write("pid %d\n" % pid)
sys.stderr.flush()
stdin = sys.stdin.fileno()
open_in = True
status = None
while status is None:
    ready, _, _ = select.select([master] + ([stdin] if open_in else []), [], [], 0.05)
    if master in ready:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b""
        if data:
            os.write(sys.stdout.fileno(), data)
    if open_in and stdin in ready:
        data = os.read(stdin, 65536)
        if data:
            os.write(master, data)
        else:
            open_in = False
            os.close(master)
            master = os.open(os.devnull, os.O_RDONLY)
    done, code = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(code)
# What the terminal still holds.
try:
    while True:
        ready, _, _ = select.select([master], [], [], 0)
        if not ready: break
        data = os.read(master, 65536)
        if not data: break
        os.write(sys.stdout.fileno(), data)
except OSError:
    pass
sys.exit(128 - status if status < 0 else status)
