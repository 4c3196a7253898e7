'use strict';

// The `functions` of serverless.yml: those written under custom.functions, exactly as they are, or with
// LOGFWD_SHARDS=N the forwarder (`forward`) as N forwarders that share the monitored actions
// (parameter shard=i/N, see docs/scaling.md). Shard 1 keeps the unsharded names (action, trigger,
// rule, and so its checkpoint): growing from one forwarder continues where it was. Shard i > 1 is
// `<name>-i` with its own alarm trigger and rule, as `make manifest SHARDS=N` names them for wskdeploy
// and as the activation checkpoint store expects.

module.exports = async ({ resolveVariable }) => {
  const written = await resolveVariable('self:custom.functions');
  const forwarder = written.forward;
  const raw = (process.env.LOGFWD_SHARDS || '').trim();
  if (raw === '' || raw === '1') {
    return written;
  }
  const count = Number(raw);
  if (!Number.isInteger(count) || count < 1 || count > 100) {
    throw new Error(`LOGFWD_SHARDS must be a whole number of forwarders from 1 to 100, not '${raw}'`);
  }
  const functions = {};
  for (let i = 1; i <= count; i += 1) {
    const suffix = i === 1 ? '' : `-${i}`;
    const events = forwarder.events.map(({ schedule }) => ({
      schedule: {
        ...schedule,
        trigger: `${schedule.trigger}${suffix}`,
        name: `${schedule.name}${suffix}`,
        rule: `${schedule.rule}${suffix}`,
      },
    }));
    functions[`forward${suffix}`] = {
      ...forwarder,
      name: `${forwarder.name}${suffix}`,
      parameters: { ...forwarder.parameters, shard: `${i}/${count}` },
      events,
    };
  }
  const others = { ...written };
  delete others.forward;
  return { ...functions, ...others };
};
