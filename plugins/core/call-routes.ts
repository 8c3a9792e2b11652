// HTTP routes of call control (beyond the original spec): originate, transfer, park, recording, DTMF, mute and
// variables under /admin/core/channels. Each acts on a channel the gateway knows (404 otherwise) with one AMI action.
import { route } from '../../core/contract/route.ts';
import { bool, dict, int, line, name, named, obj, oneOf, opt, pathName, type Out, v } from '../../core/contract/schema.ts';
import { ok } from '../../core/http/envelope.ts';
import { badRequest, notFound } from '../../core/http/errors.ts';
import type { EventBus } from '../../core/bus/bus.ts';
import type { Router } from '../../core/plugins/contract.ts';
import type { CallService } from './calls.ts';
import { ChannelRecordingSchema, events, type RecordingSchema, type TransferProgress } from './schemas.ts';
import type { CoreState } from './state.ts';

const tags = ['calls'];
const BEYOND = 'Beyond the original spec (issue 13).';
const uniqueId = { id: pathName('unique id of the channel') };
const seconds = (d: string, max: number) =>
  v.pipe(int(d), v.minValue(1, `must be from 1 to ${max}`), v.maxValue(max, `must be from 1 to ${max}`));

export const OriginateSchema = obj({
  channel: name('what to call, e.g. PJSIP/1001 or Local/100@from-internal'),
  context: opt(name('where the answered channel goes in the dialplan (with exten)')),
  exten: opt(name('the extension in context')),
  priority: opt(name('priority or label (default 1)')),
  application: opt(name('or: the application the answered channel runs, e.g. Playback')),
  data: opt(line("the application's arguments")),
  caller_id_name: opt(line('caller id name shown to the called party')),
  caller_id_num: opt(line('caller id number')),
  variables: opt(dict(line(), 'channel variables set before the call starts (name: value; no commas in a value)')),
  timeout_s: opt(seconds('seconds to wait for an answer (default 30)', 3600)),
  account_code: opt(line('the CDR account code')),
});

const OriginateAnswerSchema = named(
  'OriginateAccepted',
  obj({
    unique_id: line('the unique id the called channel gets; the outcome event (core.originate.*) carries it'),
    other_unique_id: line('the unique id of the second half of a Local channel (;2)'),
  }),
);

const TransferSchema = obj({
  context: name('target context'),
  exten: name('target extension'),
  priority: opt(name('target priority or label (default 1); blind transfer only')),
  attended: opt(bool('true: attended transfer (Atxfer): this channel calls the target while its bridged peer waits')),
});

const ChannelVariableSchema = named('ChannelVariable', obj({ name: line(), value: line() }));

export function registerCallRoutes(r: Router, state: CoreState, calls: CallService, bus: EventBus): void {
  const channel = (id: string) => {
    const ch = state.channels.get(id);
    if (!ch) throw notFound(`no channel with unique_id ${id}`);
    return ch;
  };
  const progress = (p: TransferProgress) => {
    if (bus.active) bus.publish(events.transfer, p);
  };
  const recorded = (id: string, rec: Out<typeof RecordingSchema>) => {
    const out = { unique_id: id, ...rec };
    if (bus.active) bus.publish(events.recordingUpdated, out);
    return ok(out);
  };

  r.add(
    route({
      method: 'POST',
      path: '/admin/core/channels',
      summary: 'Originate a call (click-to-call)',
      description: `${BEYOND} Calls \`channel\`; once answered it goes to context/exten/priority or runs application/data. Answers 202 at once with the unique id the new channel will have (the gateway chooses it, Originate's ChannelId); the outcome follows as event core.originate.answered or core.originate.failed (reason busy, no_answer, congestion, no_such_extension ...) carrying that id.`,
      tags,
      live: true,
      body: OriginateSchema,
      responses: { 202: OriginateAnswerSchema },
      errors: [502],
      handler: async (_c, { body }) => ok(await calls.originate(body), 202),
    }),
  );

  r.add(
    route({
      method: 'POST',
      path: '/admin/core/channels/:id/transfer',
      summary: 'Transfer a call (blind, or attended)',
      description: `${BEYOND} Blind: the channel leaves its call and goes to context/exten/priority (Redirect). Attended ("attended": true): the channel (the transferer) calls context/exten while its bridged peer waits (Atxfer, which plays features.conf's atxfer code into the channel: without one Asterisk refuses, 409); then POST .../transfer/complete (the transferer leaves, its peer and the target are connected) or .../transfer/cancel (CancelAtxfer: the target is dropped, the transferer is back with its peer). Progress is published as core.transfer.progress.`,
      tags,
      live: true,
      params: uniqueId,
      body: TransferSchema,
      responses: { 200: null },
      errors: [404, 409, 502],
      handler: async (_c, { params, body }) => {
        const ch = channel(params.id);
        const kind = body.attended ? 'attended' : 'blind';
        if (body.attended) {
          if (body.priority !== undefined) throw badRequest('priority: an attended transfer dials context/exten', { field: 'priority' });
          await calls.attendedTransfer(ch, body.context, body.exten);
        } else await calls.redirect(ch, body.context, body.exten, body.priority ?? '1');
        progress({
          unique_id: ch.unique_id,
          kind,
          state: body.attended ? 'started' : 'completed',
          context: body.context,
          exten: body.exten,
          message: body.attended ? 'the transferer is calling the target; its peer waits' : 'the channel was sent to the target',
        });
        return ok();
      },
    }),
  );
  for (const step of ['complete', 'cancel'] as const) {
    r.add(
      route({
        method: 'POST',
        path: `/admin/core/channels/:id/transfer/${step}`,
        summary: step === 'complete' ? 'Complete an attended transfer' : 'Cancel an attended transfer',
        description:
          step === 'complete'
            ? `${BEYOND} The transferer (this channel) is hung up; Asterisk then connects its held peer with the target, and core.transfer.progress says completed (or failed) when Asterisk reports the transfer.`
            : `${BEYOND} CancelAtxfer: the target is hung up and the transferer is back with its peer.`,
        tags,
        live: true,
        params: uniqueId,
        responses: { 200: null },
        errors: [404, 409, 502],
        handler: async (_c, { params }) => {
          const ch = channel(params.id);
          // completed: published when Asterisk reports it (AttendedTransfer); a cancel has no such event
          if (step === 'complete') await calls.completeAttendedTransfer(ch);
          else
            progress({
              ...(await calls.cancelAttendedTransfer(ch)),
              unique_id: ch.unique_id,
              kind: 'attended',
              state: 'cancelled',
              message: 'the target was dropped; the transferer is back with its peer',
            });
          return ok();
        },
      }),
    );
  }

  r.add(
    route({
      method: 'POST',
      path: '/admin/core/channels/:id/park',
      summary: 'Park a call',
      description: `${BEYOND} Asterisk's Park action: the channel goes to a space of the lot (default: the default lot); it then shows in /admin/park/parkedcalls and POST /admin/park/parkedcalls/<unique_id>/pickup picks it up.`,
      tags,
      live: true,
      params: uniqueId,
      body: obj({
        parking_lot: opt(name('the lot (default: the default lot)')),
        timeout_s: opt(seconds("seconds before the call comes back (default: the lot's parkingtime)", 86400)),
      }),
      bodyOptional: true,
      responses: { 200: null },
      errors: [404, 409, 502],
      handler: async (_c, { params, body }) => {
        await calls.park(channel(params.id), body?.parking_lot, body?.timeout_s);
        return ok();
      },
    }),
  );

  r.add(
    route({
      method: 'POST',
      path: '/admin/core/channels/:id/recording',
      summary: 'Start recording a call',
      description: `${BEYOND} MixMonitor into gateway.yaml's recordings.dir; the file name is the gateway's (<unique_id>-<UTC time>.<format>). The answer and GET of the channel show it.`,
      tags,
      live: true,
      params: uniqueId,
      body: obj({ format: opt(name('file format (default: recordings.format)')) }),
      bodyOptional: true,
      responses: { 200: ChannelRecordingSchema },
      errors: [404, 409, 502],
      handler: async (_c, { params, body }) => {
        const fmt = body?.format;
        if (fmt !== undefined && !/^[A-Za-z0-9]{1,16}$/.test(fmt))
          throw badRequest('format: letters and digits only, e.g. wav', { field: 'format' });
        return recorded(params.id, await calls.startRecording(channel(params.id), fmt));
      },
    }),
  );
  r.add(
    route({
      method: 'PUT',
      path: '/admin/core/channels/:id/recording',
      summary: 'Pause or resume a recording',
      description: `${BEYOND} MixMonitorMute of both directions: a paused recording writes silence.`,
      tags,
      live: true,
      params: uniqueId,
      body: obj({ paused: bool('true pauses, false resumes') }),
      responses: { 200: ChannelRecordingSchema },
      errors: [404, 409, 502],
      handler: async (_c, { params, body }) => recorded(params.id, await calls.pauseRecording(channel(params.id), body.paused)),
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: '/admin/core/channels/:id/recording',
      summary: 'Stop a recording',
      description: `${BEYOND} StopMixMonitor; the file is complete.`,
      tags,
      live: true,
      params: uniqueId,
      responses: { 200: ChannelRecordingSchema },
      errors: [404, 409, 502],
      handler: async (_c, { params }) => recorded(params.id, await calls.stopRecording(channel(params.id))),
    }),
  );

  r.add(
    route({
      method: 'POST',
      path: '/admin/core/channels/:id/dtmf',
      summary: 'Play DTMF digits on a channel',
      description: `${BEYOND} PlayDTMF, one digit after another, sent to the channel's far end.`,
      tags,
      live: true,
      params: uniqueId,
      body: obj({
        digits: v.pipe(line('0-9, A-D, * and #'), v.regex(/^[0-9A-Da-d*#]{1,64}$/, 'must be 1 to 64 of 0-9, A-D, * and #')),
        duration_ms: opt(
          v.pipe(
            int("each digit lasts this long (default: Asterisk's)"),
            v.minValue(20, 'must be from 20 to 5000'),
            v.maxValue(5000, 'must be from 20 to 5000'),
          ),
        ),
      }),
      responses: { 200: null },
      errors: [404, 409, 502],
      handler: async (_c, { params, body }) => {
        await calls.playDtmf(channel(params.id), body.digits.toUpperCase(), body.duration_ms);
        return ok();
      },
    }),
  );
  r.add(
    route({
      method: 'PUT',
      path: '/admin/core/channels/:id/mute',
      summary: 'Mute or unmute a channel',
      description: `${BEYOND} MuteAudio: in (the audio Asterisk reads from the channel), out (the audio it writes to the channel) or all.`,
      tags,
      live: true,
      params: uniqueId,
      body: obj({ direction: oneOf(['in', 'out', 'all'] as const), muted: bool() }),
      responses: { 200: null },
      errors: [404, 409, 502],
      handler: async (_c, { params, body }) => {
        await calls.mute(channel(params.id), body.direction, body.muted);
        return ok();
      },
    }),
  );

  const varParams = { ...uniqueId, name: pathName('variable name, or a function such as CALLERID(num)') };
  r.add(
    route({
      method: 'GET',
      path: '/admin/core/channels/:id/variables/:name',
      summary: 'Read a channel variable',
      description: `${BEYOND} Getvar: any variable or function, not only those seen by VarSet.`,
      tags,
      live: true,
      params: varParams,
      responses: { 200: ChannelVariableSchema },
      errors: [404, 409, 502],
      handler: async (_c, { params }) => ok({ name: params.name, value: await calls.getVariable(channel(params.id), params.name) }),
    }),
  );
  r.add(
    route({
      method: 'PUT',
      path: '/admin/core/channels/:id/variables/:name',
      summary: 'Set a channel variable',
      description: `${BEYOND} Setvar.`,
      tags,
      live: true,
      params: varParams,
      body: obj({ value: line() }),
      responses: { 200: null },
      errors: [404, 409, 502],
      handler: async (_c, { params, body }) => {
        await calls.setVariable(channel(params.id), params.name, body.value);
        return ok();
      },
    }),
  );
}
