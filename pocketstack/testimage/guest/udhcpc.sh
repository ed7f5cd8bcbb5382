#!/bin/sh
# udhcpc event script of the test VM: address, routes (classless static
# routes, option 121, take precedence over the router option per RFC 3442),
# resolv.conf; the address goes to /run/ip for /init.
case "$1" in
deconfig)
    ip addr flush dev "$interface"
    ip link set "$interface" up
    ;;
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" ${broadcast:+broadcast "$broadcast"} dev "$interface"
    if [ -n "$staticroutes" ]; then
        set -- $staticroutes
        while [ $# -ge 2 ]; do
            if [ "$2" = 0.0.0.0 ]; then
                ip route add "$1" dev "$interface"
            else
                ip route add "$1" via "$2" dev "$interface"
            fi
            shift 2
        done
    elif [ -n "$router" ]; then
        for r in $router; do ip route add default via "$r" dev "$interface" && break; done
    fi
    : > "${RESOLV_CONF:-/etc/resolv.conf}"
    for d in $dns; do echo "nameserver $d" >> "${RESOLV_CONF:-/etc/resolv.conf}"; done
    echo "$ip" > "${IP_FILE:-/run/ip}"
    ;;
esac
exit 0
