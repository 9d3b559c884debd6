"""
Drive a command on a real pseudo-terminal (node has no pty): used by the engine's attach tests.

usage: pty-drive.py ROWS COLS STEPS -- ARGV...
STEPS is ';'-separated: `w:TEXT` writes TEXT (Python escapes such as \x10 allowed), `s:SECS` reads
output for SECS seconds, `r:ROWSxCOLS` resizes the terminal (and sends SIGWINCH). Afterwards the
output is read until the command closes the terminal; prints repr(output) and `exit N`.
"""
import os, pty, sys, time, select, struct, fcntl, termios
# usage: c-pty.py ROWS COLS SCRIPT -- argv...   SCRIPT: ';'-separated steps: w:<text with \x escapes> | s:<secs> | r:ROWSxCOLS
i = sys.argv.index('--')
rows, cols, steps, argv = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[i+1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
def setsize(r, c):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', r, c, 0, 0))
    os.kill(pid, 28)
setsize(rows, cols)
out = b''
def pump(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
        if not r: break
        try: d = os.read(fd, 4096)
        except OSError: return False
        if not d: return False
        out += d
    return True
for step in steps.split(';'):
    k, v = step[0], step[2:]
    if k == 'w': os.write(fd, v.encode().decode('unicode_escape').encode('latin1'))
    elif k == 's': pump(float(v))
    elif k == 'r': a, b = v.split('x'); setsize(int(a), int(b))
while pump(1): pass
_, st = os.waitpid(pid, 0)
sys.stdout.write(repr(out) + '\n')
sys.stdout.write('exit %d\n' % os.waitstatus_to_exitcode(st))
