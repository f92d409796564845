// examples/lambda/template.yaml, checked without an AWS account: parsed with CloudFormation's
// short-form tags, its table compared with the documented one and then created on DynamoDB
// Local and judged by checkTable(), its function's policy compared with the documented least
// policy, and its HTTP API wired to the function.
import { readdirSync, readFileSync } from 'node:fs'
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type TimeToLiveSpecification,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb'
import { describe, expect, it } from 'vitest'
import { type CollectionTag, parse, parseDocument, type ScalarTag, type Tags, YAMLMap, YAMLSeq } from 'yaml'
import { checkTable } from '../../src/index.ts'
import { localClient, uniqueTableName } from '../support/dynamodb.ts'

const scalar = (name: string, toValue: (value: string) => unknown): ScalarTag => ({
  tag: `!${name}`,
  resolve: toValue,
})
const collection = (name: string, kind: 'seq' | 'map'): CollectionTag => ({
  tag: `!${name}`,
  collection: kind,
  nodeClass: kind === 'seq' ? YAMLSeq : YAMLMap,
  resolve: (node) => ({ [`Fn::${name}`]: node.toJSON() }),
})

/** CloudFormation's short forms (`!Ref x`, `!GetAtt a.b`, `!Sub '…'`, …) as their long forms. */
const cloudFormationTags: Tags = [
  scalar('Ref', (value) => ({ Ref: value })),
  scalar('Condition', (value) => ({ Condition: value })),
  scalar('GetAtt', (value) => ({ 'Fn::GetAtt': value.split('.') })),
  ...['Sub', 'ImportValue', 'Base64', 'GetAZs'].map((name) =>
    scalar(name, (value) => ({ [`Fn::${name}`]: value })),
  ),
  ...['Sub', 'ImportValue', 'Base64', 'GetAZs', 'Join', 'Select', 'Split', 'If', 'Equals', 'Not', 'And', 'Or']
    .concat(['FindInMap', 'Cidr', 'GetAtt'])
    .map((name) => collection(name, 'seq')),
  collection('Transform', 'map'),
]

const readText = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')
const template = parse(readText('examples/lambda/template.yaml'), {
  customTags: cloudFormationTags,
  strict: true,
})
type PolicyStatement = { Effect: string; Action: string | string[]; Resource: unknown }
interface FunctionProperties {
  Runtime: string
  Handler: string
  Environment: { Variables: Record<string, unknown> }
  Events: Record<string, { Type: string; Properties: { Path: string } }>
  Policies: { Statement: PolicyStatement[] }[]
}
const resources = template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>
const functionProperties = resources.SessionFunction?.Properties as unknown as FunctionProperties

/** The fenced blocks of `language` in the project's docs: the README, then docs/ (other than lambda.md). */
function documentedBlocks(language: string): string[] {
  const docs = readdirSync(new URL('../../docs/', import.meta.url)).filter(
    (file) => file.endsWith('.md') && file !== 'lambda.md',
  )
  const texts = [readText('README.md'), ...docs.map((file) => readText(`docs/${file}`))]
  const fence = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g')
  return texts.flatMap((text) => [...text.matchAll(fence)].map((match) => match[1] ?? ''))
}

/** The application's IAM policy as the docs give it (the one with the item calls). */
const documentedPolicy = JSON.parse(
  documentedBlocks('json').find(
    (block) => block.includes('dynamodb:PutItem') && block.includes('dynamodb:GetItem'),
  ) ?? 'null',
)
/** The sessions table as the docs give it in CloudFormation. */
const documentedTable = parse(
  documentedBlocks('yaml').find((block) => block.includes('AWS::DynamoDB::Table')) ?? 'null',
)?.Resources?.SessionsTable

const asList = (value: string | string[]) => (Array.isArray(value) ? value : [value])

describe('the Lambda example template', () => {
  it('parses, with the short-form tags, as a SAM template of one table, one function and its HTTP API', () => {
    expect(template.Transform).toBe('AWS::Serverless-2016-10-31')
    expect(Object.values(resources).map((resource) => resource.Type)).toEqual([
      'AWS::DynamoDB::Table',
      'AWS::Serverless::Function',
    ])
    const fn = functionProperties
    expect(fn.Environment.Variables.SESSION_TABLE).toEqual({ Ref: 'SessionsTable' })
    expect(fn.Environment.Variables.SESSION_SECRET).toEqual({ Ref: 'SessionSecret' })
    expect(template.Parameters.SessionSecret).toMatchObject({ NoEcho: true, MinLength: 32 })
    expect(fn.Runtime).toMatch(/^nodejs(20|22|24)\.x$/)
    expect(fn.Handler).toBe('index.handler') // dist/index.mjs, as npm run example:lambda:build writes it
    const events = Object.values(fn.Events)
    expect(events.map((event) => event.Type)).toEqual(['HttpApi', 'HttpApi'])
    expect(events.map((event) => event.Properties.Path).sort()).toEqual(['/', '/{proxy+}'])
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation !Sub placeholder
    expect(template.Outputs.Url.Value['Fn::Sub']).toContain('${ServerlessHttpApi}')
  })

  it('creates the table the docs describe: on-demand, TTL on expire_at, the user index', () => {
    expect(documentedTable).toBeDefined()
    const { TableName: _name, ...documented } = documentedTable.Properties
    const table = resources.SessionsTable?.Properties
    expect(table).toEqual(documented)
    expect(table?.BillingMode).toBe('PAY_PER_REQUEST')
    expect(table?.TimeToLiveSpecification).toEqual({ AttributeName: 'expire_at', Enabled: true })
  })

  it("creates a table that checkTable() finds right for the store's default options", async () => {
    const client = localClient()
    const tableName = uniqueTableName('template')
    const { TimeToLiveSpecification: ttl, ...properties } = resources.SessionsTable?.Properties ?? {}
    await client.send(
      new CreateTableCommand({ ...properties, TableName: tableName } as CreateTableCommandInput),
    )
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: ttl as TimeToLiveSpecification,
      }),
    )
    const report = await checkTable({ client, tableName })
    expect(report.problems).toEqual([])
    expect(report.partitionKey).toEqual({ name: 'session_id', type: 'S' })
    expect(report.ttl).toEqual({ status: 'ENABLED', attribute: 'expire_at' })
    expect(report.userIndex?.name).toBe('user_id-index')
  })

  it('gives the function exactly the documented least policy: no other action, no wildcard, no managed policy', () => {
    expect(documentedPolicy?.Statement).toHaveLength(2)
    const policies = functionProperties.Policies
    expect(policies).toHaveLength(1) // no AWS managed policy such as AmazonDynamoDBFullAccess
    const [items, index] = policies[0]?.Statement ?? []
    if (!items || !index) throw new Error('the template lost a policy statement')
    const [documentedItems, documentedIndex] = documentedPolicy.Statement

    expect(items.Effect).toBe('Allow')
    expect(new Set(asList(items.Action))).toEqual(new Set(asList(documentedItems.Action)))
    expect(items.Resource).toEqual({ 'Fn::GetAtt': ['SessionsTable', 'Arn'] })

    expect(index.Effect).toBe('Allow')
    expect(asList(index.Action)).toEqual(asList(documentedIndex.Action))
    expect(documentedIndex.Resource).toMatch(/:table\/sessions\/index\/user_id-index$/)
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation !Sub placeholder
    expect(index.Resource).toEqual({ 'Fn::Sub': '${SessionsTable.Arn}/index/user_id-index' })

    for (const statement of policies[0]?.Statement ?? []) {
      expect(asList(statement.Action).every((action) => /^dynamodb:[A-Za-z]+$/.test(action))).toBe(true)
      expect(JSON.stringify(statement.Resource)).not.toContain('*')
      expect(asList(statement.Action)).not.toContain('dynamodb:Scan')
    }
  })

  it('reads every short-form tag: no warning with the tag set, unresolved tags without it', () => {
    const text = readText('examples/lambda/template.yaml')
    const withTags = parseDocument(text, { customTags: cloudFormationTags })
    expect(withTags.errors).toEqual([])
    expect(withTags.warnings).toEqual([])
    const plain = parseDocument(text, { logLevel: 'silent' })
    expect(plain.warnings.map((warning) => warning.code)).toContain('TAG_RESOLVE_FAILED')
  })
})
