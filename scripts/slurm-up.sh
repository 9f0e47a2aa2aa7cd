#!/usr/bin/env bash
# Bring up a real single-node Slurm cluster with accounting on this (Debian)
# machine: munged, mariadbd, slurmdbd, slurmctld, slurmd.
#
# Idempotent: if the cluster is already healthy it exits 0 at once; otherwise
# it installs what is missing, starts only the daemons that are not running
# and waits until the node is idle. Must run as root. Needs no systemd.
#
# PIDs of the daemons it starts are recorded in $STATE_DIR/*.pid;
# scripts/slurm-down.sh stops exactly those.
#
# Environment knobs (all optional):
#   HEMSIM_SLURM_CLUSTER  cluster name            (default: hemsim)
#   HEMSIM_SLURM_TIMEOUT  seconds to wait per step (default: 120)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEMPLATES=$HERE/slurm
CLUSTER=${HEMSIM_SLURM_CLUSTER:-hemsim}
TIMEOUT=${HEMSIM_SLURM_TIMEOUT:-120}

STATE_DIR=/run/hemsim-slurm
ETC=/etc/slurm
RUNDIR=/run/slurm
LOGDIR=/var/log/slurm
CTLD_SPOOL=/var/spool/slurmctld
SLURMD_SPOOL=/var/spool/slurmd
DBPASS_FILE=$ETC/.hemsim-slurmdb.pass

MUNGE_KEY=/etc/munge/munge.key
MUNGE_LOG=/var/log/munge/munged.log

MYSQL_DATADIR=/var/lib/mysql
MYSQL_SOCK=/run/mysqld/mysqld.sock
MYSQL_LOG=/var/log/mysql/error.log

PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)

T0=${EPOCHREALTIME/[.,]/}
log() { local us=$((${EPOCHREALTIME/[.,]/} - T0)); printf '[slurm-up %3d.%ds] %s\n' $((us / 1000000)) $((us / 100000 % 10)) "$*"; }

# fail MESSAGE [LOGFILE...]: print the message and the tail of each log, exit 1.
fail() {
    local msg=$1
    shift
    printf '[slurm-up] ERROR: %s\n' "$msg" >&2
    local f
    for f in "$@"; do
        if [[ -f $f ]]; then
            printf -- '----- tail -n 40 %s -----\n' "$f" >&2
            tail -n 40 "$f" >&2 || true
        fi
    done
    exit 1
}

# running NAME PID: PID is a live (not zombie) process whose comm is NAME.
# (PID 1 here may reap zombies only after a few seconds.)
running() {
    local stat
    [[ -n $2 ]] || return 1
    [[ $(cat "/proc/$2/comm" 2>/dev/null) == "$1" ]] || return 1
    stat=$(cat "/proc/$2/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != [ZX] ]]
}

# alive NAME PIDFILE: the pid in PIDFILE is running with comm NAME.
alive() {
    [[ -s $2 ]] || return 1
    running "$1" "$(tr -dc 0-9 <"$2")"
}

# wait_for COMMAND...: poll COMMAND until it succeeds (0) or TIMEOUT (1).
wait_for() {
    local deadline=$(($(date +%s) + TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        if (($(date +%s) >= deadline)); then
            return 1
        fi
        sleep 0.5
    done
}

node_state() { timeout 10 sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null | head -n1; }

healthy() {
    command -v sinfo >/dev/null 2>&1 && command -v sacct >/dev/null 2>&1 || return 1
    [[ -f $ETC/slurm.conf ]] || return 1
    # Cheap check first: sinfo would retry for a while if nothing is running.
    local d
    for d in slurmdbd slurmctld slurmd; do alive "$d" "$RUNDIR/$d.pid" || return 1; done
    [[ $(node_state) =~ ^(idle|mixed|allocated|completing)$ ]] || return 1
    timeout 10 sacct -n -X -S now-5minutes -o JobID >/dev/null 2>&1
}

[[ $(id -u) == 0 ]] || fail "must run as root"
NODE=$(hostname -s)

# --------------------------------------------------------------- fast path
if healthy; then
    log "Slurm cluster already up and healthy (node $NODE $(node_state)); nothing to do"
    exit 0
fi

# --------------------------------------------------------------- packages
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    log "installing: ${missing[*]}"
    apt_install() {
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
            </dev/null >/tmp/hemsim-slurm-apt.log 2>&1
    }
    if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
        log "apt-get update"
        apt-get update </dev/null >/tmp/hemsim-slurm-apt.log 2>&1 || fail "apt-get update failed" /tmp/hemsim-slurm-apt.log
    fi
    if ! apt_install; then
        log "install failed; apt-get update and retry"
        apt-get update </dev/null >/tmp/hemsim-slurm-apt.log 2>&1 || fail "apt-get update failed" /tmp/hemsim-slurm-apt.log
        apt_install || fail "apt-get install failed" /tmp/hemsim-slurm-apt.log
    fi
fi

# --------------------------------------------------------------- directories
install -d -m 0755 -o root -g root "$STATE_DIR" "$ETC"
install -d -m 0700 -o munge -g munge /etc/munge /var/log/munge
install -d -m 0711 -o munge -g munge /var/lib/munge
install -d -m 0755 -o munge -g munge /run/munge
install -d -m 0755 -o mysql -g mysql /run/mysqld /var/log/mysql
install -d -m 0755 -o mysql -g mysql "$MYSQL_DATADIR"
install -d -m 0755 -o slurm -g slurm "$RUNDIR" "$LOGDIR" "$CTLD_SPOOL"
install -d -m 0755 -o root -g root "$SLURMD_SPOOL"

# --------------------------------------------------------------- munge
if [[ ! -s $MUNGE_KEY ]]; then
    log "generating munge key"
    mungekey --create --keyfile="$MUNGE_KEY" --force
fi
chown munge:munge "$MUNGE_KEY"
chmod 0600 "$MUNGE_KEY"

munge_ok() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }
if alive munged "$STATE_DIR/munged.pid"; then
    log "munged already running (pid $(cat "$STATE_DIR/munged.pid"))"
elif munge_ok; then
    log "using an already-running munged (not started by this script)"
else
    log "starting munged"
    rm -f /run/munge/munged.pid
    # munged insists on owning its log file.
    [[ -e $MUNGE_LOG ]] && chown munge:munge "$MUNGE_LOG" && chmod 0640 "$MUNGE_LOG"
    runuser -u munge -- /usr/sbin/munged </dev/null >"$STATE_DIR/munged.out" 2>&1 ||
        fail "munged failed to start" "$STATE_DIR/munged.out" "$MUNGE_LOG"
    wait_for munge_ok || fail "munge does not work" "$MUNGE_LOG"
    cp /run/munge/munged.pid "$STATE_DIR/munged.pid"
fi

# --------------------------------------------------------------- mariadb
mysql_ok() { mariadb-admin --socket="$MYSQL_SOCK" -uroot ping >/dev/null 2>&1; }
if alive mariadbd "$STATE_DIR/mariadbd.pid"; then
    log "mariadbd already running (pid $(cat "$STATE_DIR/mariadbd.pid"))"
elif mysql_ok; then
    log "using an already-running mariadbd (not started by this script)"
else
    # mariadbd (running as mysql) must be able to append to its error log.
    touch "$MYSQL_LOG" && chown mysql:mysql "$MYSQL_LOG"
    if [[ ! -d $MYSQL_DATADIR/mysql ]]; then
        log "initialising mariadb datadir $MYSQL_DATADIR"
        mariadb-install-db --user=mysql --datadir="$MYSQL_DATADIR" \
            --auth-root-authentication-method=socket --skip-test-db \
            </dev/null >>"$MYSQL_LOG" 2>&1 || fail "mariadb-install-db failed" "$MYSQL_LOG"
    fi
    log "starting mariadbd"
    # setsid detaches it from our session; its stdio goes to a file so that
    # a caller capturing our output (pipe) is never held open by the daemon.
    setsid /usr/sbin/mariadbd --user=mysql --datadir="$MYSQL_DATADIR" \
        --socket="$MYSQL_SOCK" --pid-file=/run/mysqld/mysqld.pid \
        --log-error="$MYSQL_LOG" --skip-networking \
        --innodb-buffer-pool-size=1G --innodb-lock-wait-timeout=900 \
        </dev/null >"$STATE_DIR/mariadbd.out" 2>&1 &
    MARIADB_PID=$!
    echo "$MARIADB_PID" >"$STATE_DIR/mariadbd.pid"
    # Stop waiting early if it died (not by comm: it may not have exec'd yet).
    mysql_up_or_dead() {
        local st
        mysql_ok && return 0
        st=$(cat "/proc/$MARIADB_PID/stat" 2>/dev/null) || return 0
        st=${st##*) }
        [[ ${st:0:1} == [ZX] ]]
    }
    if ! { wait_for mysql_up_or_dead && mysql_ok; }; then
        fail "mariadbd did not come up within ${TIMEOUT}s" "$STATE_DIR/mariadbd.out" "$MYSQL_LOG"
    fi
fi

if [[ ! -s $DBPASS_FILE ]]; then
    (umask 077 && head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24 >"$DBPASS_FILE")
fi
chmod 0600 "$DBPASS_FILE"
DBPASS=$(cat "$DBPASS_FILE")
mariadb --socket="$MYSQL_SOCK" -uroot </dev/null >/dev/null 2>&1 -e "
    CREATE DATABASE IF NOT EXISTS slurm_acct_db;
    CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DBPASS';
    ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$DBPASS';
    GRANT ALL PRIVILEGES ON slurm_acct_db.* TO 'slurm'@'localhost';
    FLUSH PRIVILEGES;" || fail "could not create the slurm database/user" "$MYSQL_LOG"

# --------------------------------------------------------------- config
HW=$(slurmd -C | head -n1)
hwval() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<<"$HW"; }
CPUS=$(hwval CPUs)
MEM=$(hwval RealMemory)
[[ -n $CPUS && -n $MEM ]] || fail "could not parse 'slurmd -C': $HW"
# Headroom: 10% (at least 512 MiB) below what slurmd reports, so the node is
# never drained for "Low RealMemory".
HEADROOM=$((MEM / 10 > 512 ? MEM / 10 : 512))
REALMEM=$((MEM - HEADROOM))
NODEHW="CPUs=$CPUS Boards=$(hwval Boards) SocketsPerBoard=$(hwval SocketsPerBoard) CoresPerSocket=$(hwval CoresPerSocket) ThreadsPerCore=$(hwval ThreadsPerCore)"

render() { # render TEMPLATE DEST OWNER MODE
    local tmp
    tmp=$(mktemp "$2.XXXXXX")
    sed -e "s|@CLUSTER@|$CLUSTER|g" -e "s|@NODE@|$NODE|g" -e "s|@NODEHW@|$NODEHW|g" \
        -e "s|@REALMEM@|$REALMEM|g" -e "s|@RUNDIR@|$RUNDIR|g" -e "s|@LOGDIR@|$LOGDIR|g" \
        -e "s|@DBPASS@|$DBPASS|g" "$1" >"$tmp"
    chown "$3" "$tmp"
    chmod "$4" "$tmp"
    if cmp -s "$tmp" "$2"; then rm -f "$tmp"; else mv -f "$tmp" "$2"; fi
}
render "$TEMPLATES/slurm.conf.in" "$ETC/slurm.conf" root:root 0644
render "$TEMPLATES/slurmdbd.conf.in" "$ETC/slurmdbd.conf" slurm:slurm 0600
log "config written: $ETC/slurm.conf (node $NODE, $CPUS CPUs, RealMemory=$REALMEM), $ETC/slurmdbd.conf"

# start_slurm_daemon NAME: start slurmdbd/slurmctld/slurmd unless running.
start_slurm_daemon() {
    local name=$1 own_pid=$RUNDIR/$1.pid
    if alive "$name" "$STATE_DIR/$name.pid"; then
        log "$name already running (pid $(cat "$STATE_DIR/$name.pid"))"
        return 0
    fi
    if alive "$name" "$own_pid"; then
        log "using an already-running $name (pid $(cat "$own_pid"), not started by this script)"
        return 0
    fi
    log "starting $name"
    rm -f "$own_pid"
    # The daemon forks into the background and writes $own_pid.
    "/usr/sbin/$name" </dev/null >"$STATE_DIR/$name.out" 2>&1 ||
        fail "$name failed to start" "$STATE_DIR/$name.out" "$LOGDIR/$name.log"
    wait_for alive "$name" "$own_pid" ||
        fail "$name did not stay up" "$LOGDIR/$name.log"
    cp "$own_pid" "$STATE_DIR/$name.pid"
}

# --------------------------------------------------------------- slurmdbd
start_slurm_daemon slurmdbd
wait_for timeout 10 sacctmgr -n show cluster ||
    fail "slurmdbd not answering within ${TIMEOUT}s" "$LOGDIR/slurmdbd.log" "$MYSQL_LOG"

if ! sacctmgr -n -P show cluster format=cluster 2>/dev/null | grep -qx "$CLUSTER"; then
    log "registering cluster $CLUSTER in accounting"
    sacctmgr -i add cluster "$CLUSTER" >/dev/null || fail "sacctmgr add cluster failed" "$LOGDIR/slurmdbd.log"
fi
# Adding a cluster creates account 'root' with user root; make sure of it.
if [[ -z $(sacctmgr -n -P show assoc where cluster="$CLUSTER" user=root format=account 2>/dev/null) ]]; then
    log "adding accounting association for user root"
    sacctmgr -i add user root account=root cluster="$CLUSTER" >/dev/null ||
        fail "sacctmgr add user root failed" "$LOGDIR/slurmdbd.log"
fi

# --------------------------------------------------------------- slurmctld
# slurmctld refuses to start on state saved under another ClusterName; this is
# a throwaway test cluster, so drop that state instead.
if [[ -s $CTLD_SPOOL/clustername ]] && [[ $(cat "$CTLD_SPOOL/clustername") != "$CLUSTER" ]] &&
    ! alive slurmctld "$RUNDIR/slurmctld.pid"; then
    log "ClusterName changed to $CLUSTER: clearing old slurmctld state in $CTLD_SPOOL"
    find "$CTLD_SPOOL" -mindepth 1 -delete
fi
start_slurm_daemon slurmctld
ctld_up() { timeout 10 scontrol ping 2>/dev/null | grep -q 'is UP'; }
wait_for ctld_up || fail "slurmctld not answering within ${TIMEOUT}s" "$LOGDIR/slurmctld.log"

# --------------------------------------------------------------- slurmd
start_slurm_daemon slurmd
deadline=$(($(date +%s) + TIMEOUT))
while :; do
    st=$(node_state || true)
    [[ $st =~ ^(idle|mixed|allocated|completing)$ ]] && break
    if [[ $st =~ ^(down|drain|drained|draining|fail|failing) ]]; then
        scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
    fi
    if (($(date +%s) >= deadline)); then
        timeout 10 scontrol show node "$NODE" >&2 || true
        fail "node $NODE not idle within ${TIMEOUT}s (state: '${st:-?}')" "$LOGDIR/slurmd.log" "$LOGDIR/slurmctld.log"
    fi
    sleep 0.5
done

wait_for timeout 10 sacct -n -X -S now-5minutes -o JobID ||
    fail "sacct does not work" "$LOGDIR/slurmdbd.log" "$LOGDIR/slurmctld.log"

log "Slurm cluster '$CLUSTER' up: node $NODE $st, partition debug (default), accounting via slurmdbd"
