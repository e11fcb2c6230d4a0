import { isIP } from 'node:net';
import { z } from 'zod/v4';

const isAddressOrRange = (entry: string): boolean => {
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  const width = Number(bits);
  return /^\d{1,3}$/.test(bits) && width <= (family === 4 ? 32 : 128);
};

/**
 * TRUST_PROXY: the proxies whose X-Forwarded-For names the client, as addresses or CIDR
 * ranges, comma-separated; empty trusts none, and the header is ignored. Never `true`: a
 * client that reaches the API directly could then pick its own address.
 */
export const trustedProxies = z
  .string()
  .default('')
  .transform((text) => text.split(',').map((entry) => entry.trim()).filter(Boolean))
  .pipe(z.array(z.string().refine(isAddressOrRange, { message: 'must be an IP address or a CIDR range such as 10.0.0.0/8' })));
