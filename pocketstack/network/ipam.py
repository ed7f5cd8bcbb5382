"""IP address management: the free addresses of each subnet as availability ranges.

A subnet's allocation pools start as one range each in `ip_ranges`; taking an
address shrinks or splits the range holding it, releasing one grows or joins
its neighbours. Every step is one or two indexed lookups, so the cost does not
depend on how many addresses are already in use. Correct under concurrency:
on SQLite the write transaction holds the database lock; on PostgreSQL the
range row is locked (`FOR UPDATE`) and the allocation's primary key
(subnet, address) is the last guard. All functions run inside the caller's
write transaction.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.network import errors
from pocketstack.network.models import IPAllocation, IPRange, Subnet

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_RETRIES = 20


def key(ip: Address | int) -> str:
    """The fixed-width, order-preserving text key of an address."""
    return f"{int(ip):032x}"


def _ip(k: str, version: int) -> Address:
    n = int(k, 16)
    return ipaddress.IPv4Address(n) if version == 4 else ipaddress.IPv6Address(n)


def pool_ranges(pools: Iterable[dict]) -> list[tuple[Address, Address]]:
    return [(ipaddress.ip_address(p["start"]), ipaddress.ip_address(p["end"])) for p in pools]


def in_pools(subnet: Subnet, ip: Address) -> bool:
    return any(start <= ip <= end for start, end in pool_ranges(subnet.allocation_pools))


async def create_ranges(session: AsyncSession, subnet: Subnet) -> None:
    """Make every address of the subnet's pools free (a new subnet)."""
    rows = [
        {"subnet_id": subnet.id, "first": key(start), "last": key(end)}
        for start, end in pool_ranges(subnet.allocation_pools)
    ]
    if rows:
        await session.execute(insert(IPRange), rows)


async def rebuild_ranges(session: AsyncSession, subnet: Subnet) -> None:
    """Recompute the free ranges after the pools changed: pools minus allocations."""
    await session.execute(delete(IPRange).where(IPRange.subnet_id == subnet.id))
    used = sorted(
        int(ipaddress.ip_address(a))
        for a in (await session.scalars(
            select(IPAllocation.ip_address).where(IPAllocation.subnet_id == subnet.id)
        ))
    )
    rows = []
    for start, end in pool_ranges(subnet.allocation_pools):
        cur = int(start)
        for u in (x for x in used if int(start) <= x <= int(end)):
            if u > cur:
                rows.append({"subnet_id": subnet.id, "first": key(cur), "last": key(u - 1)})
            cur = u + 1
        if cur <= int(end):
            rows.append({"subnet_id": subnet.id, "first": key(cur), "last": key(end)})
    if rows:
        await session.execute(insert(IPRange), rows)


async def allocate_any(session: AsyncSession, subnet: Subnet, port_id: str) -> str:
    """Take the lowest free address of the subnet's pools for the port."""
    for _ in range(_RETRIES):
        row = (await session.execute(
            select(IPRange.id, IPRange.first, IPRange.last)
            .where(IPRange.subnet_id == subnet.id)
            .order_by(IPRange.first).limit(1).with_for_update()
        )).first()
        if row is None:
            if not await _any_range(session, subnet.id):
                raise errors.IpAddressGenerationFailure(subnet.network_id)
            continue  # the range we waited for was used up meanwhile: take the next
        taken = await _take_first(session, row)
        if taken:
            ip = str(_ip(row.first, subnet.ip_version))
            await _record(session, subnet, port_id, ip)
            return ip
    raise errors.IpAddressGenerationFailure(subnet.network_id)


async def _any_range(session: AsyncSession, subnet_id: str) -> bool:
    return (await session.scalar(
        select(IPRange.id).where(IPRange.subnet_id == subnet_id).limit(1)
    )) is not None


async def _take_first(session: AsyncSession, row) -> bool:  # noqa: ANN001
    """Remove the first address from the range; False if it changed under us."""
    if row.first == row.last:
        result = await session.execute(
            delete(IPRange).where(IPRange.id == row.id, IPRange.first == row.first))
    else:
        result = await session.execute(
            update(IPRange).where(IPRange.id == row.id, IPRange.first == row.first)
            .values(first=key(int(row.first, 16) + 1)))
    return result.rowcount == 1


async def allocate_specific(
    session: AsyncSession, subnet: Subnet, port_id: str, ip: Address,
    *, allow_gateway: bool = False,
) -> str:
    """Give the port this exact address of the subnet (in the pools or not)."""
    check_in_subnet(subnet, ip, allow_gateway=allow_gateway)
    k = key(ip)
    row = (await session.execute(
        select(IPRange.id, IPRange.first, IPRange.last)
        .where(IPRange.subnet_id == subnet.id, IPRange.first <= k)
        .order_by(IPRange.first.desc()).limit(1).with_for_update()
    )).first()
    if row is not None and row.last >= k:
        await _split(session, subnet.id, row, int(ip))
    elif await session.get(IPAllocation, (subnet.id, str(ip))) is not None:
        raise errors.IpAddressAlreadyAllocated(str(ip), subnet.id)
    elif in_pools(subnet, ip):
        raise errors.IpAddressAlreadyAllocated(str(ip), subnet.id)
    await _record(session, subnet, port_id, str(ip))
    return str(ip)


def check_in_subnet(subnet: Subnet, ip: Address, *, allow_gateway: bool = False) -> None:
    net = ipaddress.ip_network(subnet.cidr)
    if ip.version != net.version or ip not in net:
        raise errors.InvalidIpForSubnet(str(ip))
    if net.version == 4 and net.prefixlen < 31 and ip in (net.network_address,
                                                         net.broadcast_address):
        raise errors.InvalidIpForSubnet(str(ip))
    if net.version == 6 and ip == net.network_address and net.prefixlen < 127:
        raise errors.InvalidIpForSubnet(str(ip))
    if not allow_gateway and subnet.gateway_ip and ip == ipaddress.ip_address(subnet.gateway_ip):
        raise errors.IpAddressAlreadyAllocated(str(ip), subnet.id)


async def _split(session: AsyncSession, subnet_id: str, row, n: int) -> None:  # noqa: ANN001
    first, last = int(row.first, 16), int(row.last, 16)
    if first == last:
        await session.execute(delete(IPRange).where(IPRange.id == row.id))
    elif n == first:
        await session.execute(update(IPRange).where(IPRange.id == row.id)
                              .values(first=key(n + 1)))
    elif n == last:
        await session.execute(update(IPRange).where(IPRange.id == row.id)
                              .values(last=key(n - 1)))
    else:
        await session.execute(update(IPRange).where(IPRange.id == row.id)
                              .values(last=key(n - 1)))
        await session.execute(insert(IPRange).values(
            subnet_id=subnet_id, first=key(n + 1), last=key(last)))


async def record_unpooled(session: AsyncSession, subnet: Subnet, port_id: str, ip: str) -> str:
    """Record an address that never comes from the pools (SLAAC: EUI-64 of the MAC)."""
    if await session.get(IPAllocation, (subnet.id, ip)) is not None:
        raise errors.IpAddressAlreadyAllocated(ip, subnet.id)
    await _record(session, subnet, port_id, ip)
    return ip


async def _record(session: AsyncSession, subnet: Subnet, port_id: str, ip: str) -> None:
    await session.execute(insert(IPAllocation).values(
        subnet_id=subnet.id, ip_address=ip, port_id=port_id, network_id=subnet.network_id,
        seq=time.time_ns()))


async def release(session: AsyncSession, subnet: Subnet, ip: str) -> None:
    """Free the address: drop its allocation and give it back to its pool's range."""
    await session.execute(delete(IPAllocation).where(
        IPAllocation.subnet_id == subnet.id, IPAllocation.ip_address == ip))
    addr = ipaddress.ip_address(ip)
    if not in_pools(subnet, addr):
        return
    n = int(addr)
    pool_start, pool_end = next((s, e) for s, e in pool_ranges(subnet.allocation_pools)
                                if s <= addr <= e)
    before = after = None
    if n > int(pool_start):
        before = (await session.execute(select(IPRange.id, IPRange.first).where(
            IPRange.subnet_id == subnet.id, IPRange.last == key(n - 1)))).first()
    if n < int(pool_end):
        after = (await session.execute(select(IPRange.id, IPRange.last).where(
            IPRange.subnet_id == subnet.id, IPRange.first == key(n + 1)))).first()
    await _join(session, subnet.id, n, before, after)


async def _join(session: AsyncSession, subnet_id: str, n: int, before, after) -> None:  # noqa: ANN001
    if before is not None and after is not None:
        await session.execute(delete(IPRange).where(IPRange.id == after.id))
        await session.execute(update(IPRange).where(IPRange.id == before.id)
                              .values(last=after.last))
    elif before is not None:
        await session.execute(update(IPRange).where(IPRange.id == before.id)
                              .values(last=key(n)))
    elif after is not None:
        await session.execute(update(IPRange).where(IPRange.id == after.id)
                              .values(first=key(n)))
    else:
        await session.execute(insert(IPRange).values(subnet_id=subnet_id, first=key(n),
                                                     last=key(n)))


def eui64(cidr: str, mac: str) -> str:
    """The SLAAC address of a MAC in an IPv6 /64 (RFC 4291, modified EUI-64)."""
    net = ipaddress.IPv6Network(cidr)
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    iid = octets[:3] + [0xFF, 0xFE] + octets[3:]
    return str(ipaddress.IPv6Address(int(net.network_address) | int.from_bytes(bytes(iid), "big")))
