import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { newId } from '../ids.js';
import { sendProblem, toProblem } from './problem.js';

/** fastify's router refusals (a path segment past maxParamLength: 414, a malformed URL), through the one problem mapping. */
export const frameworkErrors = (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void =>
  void sendProblem(reply, toProblem(error, request));

/**
 * Errors Node's HTTP parser meets before fastify has a request (a query string or headers
 * past the header limit: 431), answered as problem+json on the raw socket, then closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return void socket.destroy();
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify({
    type: tooLarge ? '/problems/request-header-fields-too-large' : '/problems/bad-request',
    title: tooLarge ? 'Request Header Fields Too Large' : 'Bad Request',
    status,
    detail: tooLarge ? 'The request line and headers together are too large (a query string that long is refused).' : 'The request could not be parsed as HTTP.',
    correlationId: newId(),
  });
  socket.end(
    `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
      `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
