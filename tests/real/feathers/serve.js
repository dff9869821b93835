#!/usr/bin/env node
// A Feathers v5 API for the integration suite (issue 14): `node serve.js --port N --data FILE`.
//
// Built the way Feathers' docs and generated apps do it: `koa(feathers())` with the Koa error
// handler, `parseAuthentication()`, the body parser and `rest()`, and one service, `items`, from
// the memory adapter (@feathersjs/memory) with pagination on: `paginate: {default: 10, max: 50}`.
// `find` answers `{total, limit, skip, data}`; the query takes `$limit`, `$skip`, `$sort[...]`,
// field equality (`category=tools`) and operators in brackets (`updated_at[$gte]=...`), which
// @feathersjs/koa parses with koa-qs.
//
// When REAL_API_TOKEN is set, the service requires it the way Feathers' "API Key Authentication"
// cookbook does: a custom AuthenticationBaseStrategy reads the `x-api-key` header and an
// `authenticate('apiKey')` before-hook guards the service (a missing or wrong key is a 401
// NotAuthenticated error).
'use strict'

const fs = require('fs')
const { feathers } = require('@feathersjs/feathers')
const { koa, rest, bodyParser, errorHandler, parseAuthentication } = require('@feathersjs/koa')
const { MemoryService } = require('@feathersjs/memory')
const {
  AuthenticationService,
  AuthenticationBaseStrategy,
  authenticate
} = require('@feathersjs/authentication')
const { NotAuthenticated } = require('@feathersjs/errors')

function option(name) {
  const index = process.argv.indexOf(`--${name}`)
  if (index < 0 || index + 1 >= process.argv.length) {
    console.error(`usage: node serve.js --port N --data FILE (missing --${name})`)
    process.exit(2)
  }
  return process.argv[index + 1]
}

class ApiKeyStrategy extends AuthenticationBaseStrategy {
  async authenticate(authentication) {
    const { allowedKeys } = this.authentication.configuration.apiKey
    if (!allowedKeys.includes(authentication.token)) {
      throw new NotAuthenticated('Incorrect API Key')
    }
    return { apiKey: true }
  }

  async parse(req) {
    const { header } = this.authentication.configuration.apiKey
    const apiKey = req.headers[header]
    return apiKey ? { strategy: this.name, token: apiKey } : null
  }
}

async function main() {
  const port = Number(option('port'))
  const items = JSON.parse(fs.readFileSync(option('data'), 'utf8'))
  const token = process.env.REAL_API_TOKEN

  const app = koa(feathers())
  app.use(errorHandler())
  app.use(parseAuthentication())
  app.use(bodyParser())
  app.configure(rest())

  if (token) {
    app.set('authentication', {
      secret: 'not-used-for-api-keys',
      entity: null,
      authStrategies: ['apiKey'],
      apiKey: { allowedKeys: [token], header: 'x-api-key' }
    })
    const auth = new AuthenticationService(app)
    auth.register('apiKey', new ApiKeyStrategy())
    app.use('authentication', auth)
  }

  const store = Object.fromEntries(items.map((item) => [item.id, item]))
  app.use('items', new MemoryService({ store, paginate: { default: 10, max: 50 } }))
  if (token) {
    app.service('items').hooks({ before: { all: [authenticate('apiKey')] } })
  }

  await app.listen(port, '127.0.0.1')
  console.log(`Feathers items API on http://127.0.0.1:${port}/items`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
