// Address ranges as node:net BlockLists, written as CIDR strings so a list reads like the RFCs
// it comes from. One helper for the three places that ask "is this address in these ranges":
// trusted proxies and /metrics, the shortener's loopback guard, and click enrichment.
import { BlockList, isIPv4, isIPv6 } from 'node:net'

/**
 * Loopback and private networks (RFC 1918, unique local IPv6): where the gateway and Prometheus
 * reach a service from. Services trust X-Forwarded-For from these (the gateway's) and serve
 * /metrics only to them.
 */
export const PRIVATE_NETWORKS: readonly string[] = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '::1/128', 'fc00::/7']

/** A BlockList holding every range in `cidrs` ('10.0.0.0/8', '::1/128'). */
export function networkList (cidrs: readonly string[]): BlockList {
  const list = new BlockList()
  for (const cidr of cidrs) {
    const [network, prefix] = cidr.split('/') as [string, string]
    list.addSubnet(network, Number(prefix), isIPv4(network) ? 'ipv4' : 'ipv6')
  }
  return list
}

/** Whether an address (IPv4-mapped IPv6 included) is in the list; anything not an address is not. */
export function inNetworks (list: BlockList, address: string): boolean {
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address
  if (isIPv4(plain)) return list.check(plain, 'ipv4')
  return isIPv6(plain) && list.check(plain, 'ipv6')
}

const privateNetworks = networkList(PRIVATE_NETWORKS)

/** Loopback or a private network (RFC 1918, unique local IPv6), IPv4-mapped addresses included. */
export function isInternalAddress (address: string): boolean {
  return inNetworks(privateNetworks, address)
}
