'use strict';

// A local Serverless plugin that completes what serverless-openwhisk 0.18.4 (archived) leaves undone
// for logfwd's serverless.yml, found by deploying against a recording OpenWhisk API
// (tests/test_serverless.py):
//
// 1. `serverless deploy` creates the trigger and the rule of a `schedule` event but never binds the
//    alarm feed: its trigger deployment clears each trigger's `feed` before its feed deployment
//    reads it (serverless-openwhisk issue #195). The trigger exists and never fires.
// 2. `serverless remove` never unbinds that feed.
// 3. `serverless remove` leaves the package implied by a function name `package/action` behind.
//
// It works through the plugin's own OpenWhisk client, as `wsk trigger create --feed`,
// `wsk trigger delete` and `wsk package delete` would.

class ServerlessOpenwhiskFixes {
  constructor(serverless) {
    this.serverless = serverless;
    this.provider = serverless.getProvider('openwhisk');
    this.feeds = [];
    this.hooks = {
      // Copy the compiled feeds before serverless-openwhisk's deploy clears them.
      'after:package:compileEvents': () => { this.feeds = this.compiledFeeds(); },
      'after:deploy:deploy': () => this.bindFeeds(),
      'before:remove:remove': () => this.unbindFeeds(),
      'after:remove:remove': () => this.removeImplicitPackages(),
    };
  }

  get namespace() {
    return this.serverless.service.provider.namespace || '_';
  }

  functions() {
    const service = this.serverless.service;
    return service.getAllFunctions().map((name) => [name, service.getFunction(name)]);
  }

  compiledFeeds() {
    const triggers = this.serverless.service.triggers || {};
    return Object.keys(triggers)
      .filter((name) => triggers[name].feed)
      .map((name) => JSON.parse(JSON.stringify(triggers[name].feed)));
  }

  // `remove` compiles nothing: name the schedule triggers as the compiler would.
  scheduleFeeds() {
    const service = this.serverless.service.service;
    const feeds = [];
    for (const [name, fn] of this.functions()) {
      for (const event of (fn.events || []).filter((e) => e.schedule)) {
        const trigger = event.schedule.trigger || event.schedule.name || `${service}_${name}_schedule_trigger`;
        feeds.push({ trigger: `/${this.namespace}/${trigger}`, feedName: 'alarms/alarm', namespace: 'whisk.system' });
      }
    }
    return feeds;
  }

  async bindFeeds() {
    const ow = await this.provider.client();
    for (const feed of this.feeds) {
      // A redeploy replaces the previous schedule: unbind first (nothing to unbind the first time).
      await ow.feeds.delete(feed).catch(() => undefined);
      try {
        await ow.feeds.create(feed);
      } catch (err) {
        throw new this.serverless.classes.Error(
          `Could not bind /${feed.namespace}/${feed.feedName} to ${feed.trigger}: ${err.message}. ` +
          'Check that the alarms package is installed (wsk package get /whisk.system/alarms) ' +
          'and that the cron has 5 fields.');
      }
      this.serverless.cli.log(`Bound /${feed.namespace}/${feed.feedName} to ${feed.trigger}`);
    }
  }

  async unbindFeeds() {
    const ow = await this.provider.client();
    for (const feed of this.scheduleFeeds()) {
      // Already unbound or never bound is fine: the removal goes on.
      await ow.feeds.delete(feed).then(
        () => this.serverless.cli.log(`Unbound /${feed.namespace}/${feed.feedName} from ${feed.trigger}`),
        () => undefined);
    }
  }

  async removeImplicitPackages() {
    const ow = await this.provider.client();
    const packages = new Set(this.functions()
      .map(([, fn]) => (fn.name || '').match(/^([^/]+)\/[^/]+$/))
      .filter((match) => match)
      .map((match) => match[1]));
    for (const name of packages) {
      // Gone already, or still holding actions this service does not own: leave it.
      await ow.packages.delete({ name, namespace: this.namespace }).then(
        () => this.serverless.cli.log(`Removed package ${name}`),
        () => undefined);
    }
  }
}

module.exports = ServerlessOpenwhiskFixes;
