#!/usr/bin/env bash
# Stop the daemons that scripts/slurm-up.sh started, by the PIDs it recorded
# in /run/hemsim-slurm/*.pid (never by name). Leaves config, spool, the
# accounting database and logs in place, so slurm-up.sh restarts quickly.
set -uo pipefail

STATE_DIR=/run/hemsim-slurm
STOP_TIMEOUT=${HEMSIM_SLURM_STOP_TIMEOUT:-60}

log() { printf '[slurm-down] %s\n' "$*"; }

[[ $(id -u) == 0 ]] || { log "ERROR: must run as root" >&2; exit 1; }
if [[ ! -d $STATE_DIR ]]; then
    log "nothing to stop ($STATE_DIR does not exist)"
    exit 0
fi

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

rc=0
# Reverse start order: compute node, controller, accounting, database, auth.
for name in slurmd slurmctld slurmdbd mariadbd munged; do
    pidfile=$STATE_DIR/$name.pid
    [[ -f $pidfile ]] || continue
    pid=$(tr -dc 0-9 <"$pidfile")
    if ! running "$name" "$pid"; then
        log "$name (pid ${pid:-?}) not running"
        rm -f "$pidfile"
        continue
    fi
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < STOP_TIMEOUT * 5; i++)); do
        running "$name" "$pid" || break
        sleep 0.2
    done
    if running "$name" "$pid"; then
        log "$name (pid $pid) still running after ${STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null
        sleep 0.5
        if running "$name" "$pid"; then
            log "ERROR: could not stop $name (pid $pid)" >&2
            rc=1
            continue
        fi
    fi
    rm -f "$pidfile"
done
((rc == 0)) && log "done"
exit $rc
