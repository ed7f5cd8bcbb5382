#!/bin/busybox sh
# /init of the pocketstack test VM: a busybox system in the initramfs.
# Every line meant for tests starts with POCKETSTACK-TESTVM- on the console.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin /www
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
say() { echo "POCKETSTACK-TESTVM-$*"; }

if grep -q pocketstack.probe /proc/cmdline; then
    say PROBE-OK
    poweroff -f
fi

for m in $(cat /lib/modules/load-order); do insmod "/lib/modules/$m.ko"; done
say BOOT "kernel=$(uname -r)"
ip link set lo up

# Power button (ACPI shutdown from the hypervisor): power off at the first event.
for dev in /sys/class/input/input*; do
    [ "$(cat "$dev/name" 2>/dev/null)" = "Power Button" ] || continue
    for ev in "$dev"/event*; do
        [ -e "$ev" ] || continue
        node=/dev/input/${ev##*/}
        (dd if="$node" of=/dev/null bs=24 count=1 2>/dev/null; say POWEROFF; poweroff -f) &
    done
done

n=0
while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
ip=none
if [ -e /sys/class/net/eth0 ]; then
    udhcpc -i eth0 -s /etc/udhcpc.script -O staticroutes -t 5 -T 2 -b >/dev/null 2>&1
    [ -s /run/ip ] && ip=$(cat /run/ip)
fi
say UP "ip=$ip"

echo "pocketstack test VM $ip" > /www/index.html
httpd -p 80 -h /www

md=http://169.254.169.254/openstack/latest
if [ "$ip" != none ] && timeout 5 wget -q -O /run/meta_data.json "$md/meta_data.json" 2>/dev/null; then
    say METADATA "$(tr -d '\n' < /run/meta_data.json)"
    if timeout 5 wget -q -O /run/user_data "$md/user_data" 2>/dev/null; then
        sed 's/^/POCKETSTACK-TESTVM-USERDATA /' /run/user_data
    fi
else
    say METADATA none
fi

# A config drive (vfat, label config-2): the first virtio disk holding openstack/.
mkdir -p /mnt/config
drive=none
for d in /sys/block/vd*; do
    mount -t vfat -o ro "/dev/${d##*/}" /mnt/config 2>/dev/null || continue
    if [ -f /mnt/config/openstack/latest/meta_data.json ]; then
        drive=$(tr -d '\n' < /mnt/config/openstack/latest/meta_data.json)
        break
    fi
    umount /mnt/config
done
say CONFIGDRIVE "$drive"

disks() { ls /sys/block | grep -v -e '^loop' -e '^ram' | sort; }
known=$(disks)
say DISKS $known
while true; do
    sleep 1
    now=$(disks)
    for d in $now; do echo "$known" | grep -qx "$d" || say DISK-ADDED "$d"; done
    for d in $known; do echo "$now" | grep -qx "$d" || say DISK-REMOVED "$d"; done
    known=$now
done
