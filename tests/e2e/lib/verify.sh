# verify "what" 'CONDITION': like check (lib/common.sh), for a condition of several commands
# (joined with && or ||), evaluated as one; reports and remembers a failure. Sourced, not a test.
verify() {
    local what=$1
    if eval "$2"; then
        echo "ok: $what"
    else
        fail "$what"
    fi
}
