// The demo's small sample PBX: written into the test bed's chroot (test/asterisk/testbed.ts, option `configs`) in
// place of the test configs. Three PJSIP phones, two queues with members, agents, a parking lot and a dialplan
// that the demo's trickle of Local calls runs through.
import { PJSIP_PORT } from '../../test/asterisk/testbed.ts';

export const DEMO = {
  phones: ['1001', '1002', '1003'],
  phonePassword: (ext: string) => `demo-${ext}`,
  /** Where the trickle's Local calls go: Local/<exten>@demo-calls. */
  callsContext: 'demo-calls',
  /** Extensions of demo-calls: answer and wait, enter a queue, park. */
  exten: { wait: '600', support: 'support', sales: 'sales', agents: 'agents', park: 'park' },
  agents: { '3001': 'Alice Agent', '3002': 'Bob Agent' } as Record<string, string>,
  agentLoginContext: 'demo-agent-login',
  pjsipPort: PJSIP_PORT,
} as const;

const ctx = DEMO.callsContext;

const extensions = `
; asterisk-gateway demo: a small sample dialplan (written by deploy/demo/pbx.ts)
[general]
static = yes
writeprotect = no
autofallthrough = yes

[globals]

[demo-phones]
; what the phones 1001-1003 may dial
exten => _100X,1,Dial(PJSIP/\${EXTEN},20)
 same => n,Hangup()
exten => 600,1,Goto(${ctx},600,1)
exten => 700,1,Goto(${ctx},park,1)
exten => 8000,1,Goto(${ctx},support,1)
exten => 8001,1,Goto(${ctx},sales,1)

[${ctx}]
; the demo's trickle originates Local/<exten>@${ctx}
exten => 600,1,Answer()
 same => n,Wait(600)
 same => n,Hangup()
exten => support,1,Answer()
 same => n,Queue(support)
 same => n,Hangup()
exten => sales,1,Answer()
 same => n,Queue(sales)
 same => n,Hangup()
exten => agents,1,Answer()
 same => n,Queue(agents)
 same => n,Hangup()
exten => park,1,Answer()
 same => n,Park(default)
 same => n,Hangup()

[demo-member]
; the members of queue support: they ring for 6 s, then answer and talk
exten => _X!,1,Wait(6)
 same => n,Answer()
 same => n,Wait(600)
 same => n,Hangup()

[${DEMO.agentLoginContext}]
; Local/3001@${DEMO.agentLoginContext} logs agent 3001 in (silently)
exten => _X!,1,Answer()
 same => n,AgentLogin(\${EXTEN},s)
 same => n,Hangup()

[demo-agent-req]
; the member interface of queue agents
exten => _X!,1,AgentRequest(\${EXTEN})
 same => n,Hangup()
`;

const queues = `
; asterisk-gateway demo: queues (written by deploy/demo/pbx.ts)
[general]
persistentmembers = no
autofill = yes

[support]
; two members that answer after 6 s; callers wait while both are busy
strategy = rrmemory
timeout = 15
retry = 1
joinempty = yes
leavewhenempty = no
ringinuse = no
member => Local/201@demo-member/n,0,Carol
member => Local/202@demo-member/n,0,Dave

[sales]
; the phones: not registered in the demo, so callers wait here until they hang up
strategy = ringall
timeout = 15
retry = 5
joinempty = yes
leavewhenempty = no
member => PJSIP/1001,0,Phone 1001
member => PJSIP/1002,0,Phone 1002

[agents]
strategy = ringall
timeout = 15
retry = 1
joinempty = yes
leavewhenempty = no
ringinuse = no
${Object.entries(DEMO.agents)
  .map(([id, name]) => `member => Local/${id}@demo-agent-req/n,0,${name},Agent:${id}`)
  .join('\n')}
`;

const parking = `
; asterisk-gateway demo: parking (written by deploy/demo/pbx.ts)
[general]

[default]
parkext => 700
parkpos => 701-720
context => parkedcalls
parkingtime => 300
`;

const agents = `
; asterisk-gateway demo: agents (written by deploy/demo/pbx.ts)
[general]

${Object.entries(DEMO.agents)
  .map(([id, name]) => `[${id}]\nfullname = ${name}\n`)
  .join('\n')}`;

const pjsip = `
; asterisk-gateway demo: three phones on a loopback UDP transport (written by deploy/demo/pbx.ts)
[demo-udp]
type = transport
protocol = udp
bind = 127.0.0.1:${DEMO.pjsipPort}

${DEMO.phones
  .map(
    (ext) => `[${ext}]
type = endpoint
transport = demo-udp
context = demo-phones
disallow = all
allow = ulaw
auth = ${ext}
aors = ${ext}
callerid = Phone ${ext} <${ext}>

[${ext}]
type = auth
auth_type = userpass
username = ${ext}
password = ${DEMO.phonePassword(ext)}

[${ext}]
type = aor
max_contacts = 1
`,
  )
  .join('\n')}`;

/** File name -> contents, for AsteriskTestbed's `configs`. */
export function demoConfigs(): Record<string, string> {
  return {
    'extensions.conf': extensions,
    'queues.conf': queues,
    'res_parking.conf': parking,
    'agents.conf': agents,
    'pjsip.conf': pjsip,
  };
}
