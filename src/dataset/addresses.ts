// Which network addresses a dataset URL may reach. A run spec comes from whoever may start runs, and
// the worker fetches its URLs from inside the operator's network: without this check a URL could
// reach the worker's loopback services, private hosts or a cloud metadata service (and read what
// they answer into a run). Public addresses are fine; the rest is refused unless the operator
// allow-lists it (FTFLOW_DATASET_ALLOW_HOSTS, src/dataset/sourceSettings.ts), and loopback is fine in
// local mode (the worker runs against the local stack on the developer's machine).
//
// Address ranges: IANA's special-purpose registries (RFC 6890 and its updates) for IPv4 and IPv6.
// IPv6 addresses that carry an IPv4 address (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4
// 2002::/16, the old compatible ::a.b.c.d) are judged by the IPv4 address they carry.
import { BlockList, isIP } from 'node:net';

export type AddressClass =
  'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified' | 'multicast' | 'reserved';

/** How refusals describe an address class ("resolves to a private address"). */
export const ADDRESS_CLASS_TEXT: Record<Exclude<AddressClass, 'public'>, string> = {
  loopback: 'a loopback address (this machine)',
  private: 'a private network address',
  'link-local': 'a link-local address',
  metadata: "a cloud metadata service's address",
  unspecified: 'an unspecified address (0.0.0.0 or ::)',
  multicast: 'a multicast address',
  reserved: 'a reserved address',
};

type Family = 'ipv4' | 'ipv6';

/** Cloud instance metadata services: checked before the ranges, so the refusal says what they are. */
const METADATA_ADDRESSES: readonly [string, Family][] = [
  ['169.254.169.254', 'ipv4'], // AWS, Azure (IMDS), GCP, OCI, ...
  ['169.254.170.2', 'ipv4'], // AWS ECS task metadata
  ['169.254.169.123', 'ipv4'], // AWS time sync
  ['168.63.129.16', 'ipv4'], // Azure WireServer (a public address, but the host's own agent)
  ['100.100.100.200', 'ipv4'], // Alibaba Cloud
  ['fd00:ec2::254', 'ipv6'], // AWS IMDS over IPv6
];

/** Host names of metadata services, refused before any DNS lookup. */
const METADATA_HOSTS = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.com',
  'instance-data',
  'instance-data.ec2.internal',
]);

const RANGES: readonly [string, number, Family, Exclude<AddressClass, 'public' | 'metadata'>][] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'private'], // carrier-grade NAT
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'reserved'],
  ['192.0.2.0', 24, 'ipv4', 'reserved'], // documentation
  ['192.88.99.0', 24, 'ipv4', 'reserved'], // 6to4 relay anycast
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'reserved'], // benchmarking
  ['198.51.100.0', 24, 'ipv4', 'reserved'],
  ['203.0.113.0', 24, 'ipv4', 'reserved'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'], // and the broadcast address
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['100::', 64, 'ipv6', 'reserved'], // discard-only
  ['2001:db8::', 32, 'ipv6', 'reserved'], // documentation
  ['fc00::', 7, 'ipv6', 'private'], // unique local
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'private'], // deprecated site-local
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const metadata = new BlockList();
for (const [address, family] of METADATA_ADDRESSES) metadata.addAddress(address, family);
const ranges = RANGES.map(([network, prefix, family, cls]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, family, cls };
});

/** The 8 16-bit groups of an IPv6 address, or undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined;
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const v4 = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${(((v4[0] ?? 0) << 8) | (v4[1] ?? 0)).toString(16)}:${(((v4[2] ?? 0) << 8) | (v4[3] ?? 0)).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 ? groups : undefined;
}

function v4From(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, compatible), if any. */
export function embeddedIpv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  if (!g) return undefined;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroTo(5) && g5 === 0xffff) return v4From(g6, g7); // ::ffff:a.b.c.d
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4From(g6, g7); // NAT64
  if (g0 === 0x2002) return v4From(g1, g2); // 6to4
  if (zeroTo(6) && (g6 !== 0 || g7 > 1)) return v4From(g6, g7); // ::a.b.c.d (deprecated)
  return undefined;
}

/** What kind of address `address` (an IPv4 or IPv6 literal) is. Anything unparsable is "reserved". */
export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/^\[|\]$/g, '');
  const version = isIP(bare);
  if (version === 0) return 'reserved';
  const inner = version === 6 ? embeddedIpv4(bare) : undefined;
  const [addr, family]: [string, Family] = inner ? [inner, 'ipv4'] : [bare, version === 4 ? 'ipv4' : 'ipv6'];
  if (metadata.check(addr, family)) return 'metadata';
  for (const r of ranges) if (r.family === family && r.list.check(addr, family)) return r.cls;
  return 'public';
}

/** A host name that names a metadata service (refused before it is looked up). */
export function isMetadataHostName(hostname: string): boolean {
  return METADATA_HOSTS.has(hostname.toLowerCase().replace(/\.$/, ''));
}

/**
 * The operator's allow list: host names (exact, or "*.example.com" for every name under it),
 * IP addresses and CIDR blocks. What it names may be reached whatever its address class, over
 * https or plain http.
 */
export class AllowList {
  private readonly names = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly blocks = new BlockList();
  private hasBlocks = false;
  /** The entries as given (for messages and logs). */
  readonly entries: readonly string[];

  private constructor(entries: readonly string[]) {
    this.entries = entries;
  }

  static readonly EMPTY = AllowList.parse('');

  /** Parses a comma- or whitespace-separated list; throws a RangeError naming the first bad entry. */
  static parse(text: string): AllowList {
    const entries = text
      .split(/[\s,]+/)
      .map((e) => e.trim())
      .filter((e) => e !== '');
    const list = new AllowList(entries);
    for (const entry of entries) list.add(entry);
    return list;
  }

  private add(entry: string): void {
    const cidr = /^\[?([0-9a-fA-F:.]+)\]?(?:\/(\d{1,3}))?$/.exec(entry);
    const ip = cidr?.[1];
    const version = ip ? isIP(ip) : 0;
    if (ip && version !== 0) {
      const family: Family = version === 4 ? 'ipv4' : 'ipv6';
      const prefix = cidr?.[2] === undefined ? undefined : Number(cidr[2]);
      if (prefix === undefined) this.blocks.addAddress(ip, family);
      else if (prefix <= (version === 4 ? 32 : 128)) this.blocks.addSubnet(ip, prefix, family);
      else throw new RangeError(`"${entry}": the prefix length is larger than the address`);
      this.hasBlocks = true;
      return;
    }
    const name = entry.toLowerCase().replace(/\.$/, '');
    if (/^\*\.[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(name)) this.suffixes.push(name.slice(1));
    else if (/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(name)) this.names.add(name);
    else
      throw new RangeError(
        `"${entry}" is not a host name, "*.domain", IP address or CIDR block (e.g. 10.1.0.0/16, fd12:3456::/48)`,
      );
  }

  /** The URL's host name is on the list (by name, or as an IP literal inside a listed block). */
  allowsHost(hostname: string): boolean {
    const name = hostname
      .toLowerCase()
      .replace(/^\[|\]$/g, '')
      .replace(/\.$/, '');
    if (this.names.has(name) || this.suffixes.some((s) => name.endsWith(s))) return true;
    return isIP(name) !== 0 && this.allowsAddress(name);
  }

  /** The list names addresses or blocks (not only host names). */
  get hasAddresses(): boolean {
    return this.hasBlocks;
  }

  /** The address (as the host name resolved) is inside a listed address or block. */
  allowsAddress(address: string): boolean {
    if (!this.hasBlocks) return false;
    const bare = address.replace(/^\[|\]$/g, '');
    const version = isIP(bare);
    if (version === 0) return false;
    if (this.blocks.check(bare, version === 4 ? 'ipv4' : 'ipv6')) return true;
    const inner = version === 6 ? embeddedIpv4(bare) : undefined;
    return inner !== undefined && this.blocks.check(inner, 'ipv4');
  }
}
