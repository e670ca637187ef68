/**
 * The Microsoft 365 clouds and their service hosts, as docs/configuration.md ("Sovereign clouds") lists them with
 * their sources. Used to decide which hosts an Exchange `@odata.nextLink` may point at: the bearer token goes
 * wherever the link points, and Exchange Online answers for one cloud under more than one host name (Global:
 * `outlook.office365.com` and `outlook.office.com`).
 */
export interface CloudHosts {
  name: string;
  login: readonly string[];
  graph: readonly string[];
  exchange: readonly string[];
}

export const CLOUDS: readonly CloudHosts[] = [
  { name: 'Global', login: ['login.microsoftonline.com'], graph: ['graph.microsoft.com'], exchange: ['outlook.office365.com', 'outlook.office.com'] },
  { name: 'US Government GCC High (L4)', login: ['login.microsoftonline.us'], graph: ['graph.microsoft.us'], exchange: ['outlook.office365.us'] },
  { name: 'US Government DoD (L5)', login: ['login.microsoftonline.us'], graph: ['dod-graph.microsoft.us'], exchange: ['outlook-dod.office365.us'] },
  { name: 'China (21Vianet)', login: ['login.chinacloudapi.cn', 'login.partner.microsoftonline.cn'], graph: ['microsoftgraph.chinacloudapi.cn'], exchange: ['partner.outlook.cn', 'outlook.office365.cn'] },
  // This machine: the simulated tenant listens on 127.0.0.1 and its certificate also names localhost.
  { name: 'Loopback (simulator)', login: ['127.0.0.1', 'localhost'], graph: ['127.0.0.1', 'localhost'], exchange: ['127.0.0.1', 'localhost'] },
];

/** The Exchange host names that answer for the same cloud as this one (just itself when it is in no known cloud). */
export function sameCloudExchangeHosts(hostname: string): readonly string[] {
  const host = hostname.toLowerCase();
  return CLOUDS.find((c) => c.exchange.includes(host))?.exchange ?? [host];
}

/**
 * May a nextLink from `endpoint` be followed with our token? Only over https, to the endpoint's port, on an Exchange
 * host of the endpoint's own cloud.
 */
export function isSameCloudExchangeLink(endpoint: string, link: URL): boolean {
  const base = new URL(endpoint);
  return link.protocol === 'https:' && base.protocol === 'https:' && link.port === base.port && sameCloudExchangeHosts(base.hostname).includes(link.hostname.toLowerCase());
}
