import assert from 'node:assert/strict'
import { BayesModel, classifyTokens } from '../../../src/spam/bayes.js'
import { interleave, misjudged, trainOnErrors, type TrainExample } from '../../../src/spam/train.js'

const example = (spam: boolean, i: number, extra: string[] = []): TrainExample => ({
  spam,
  tokens: new Set(spam ? ['cheap', 'pills', 'offer', `id${i}`, ...extra] : ['build', 'patch', 'review', `id${i}`, ...extra]),
})

describe('spam train-on-error', () => {
  it('interleaves spam and ham in proportion, each in its own order', () => {
    assert.deepEqual(interleave(['s1', 's2'], ['h1', 'h2', 'h3', 'h4']), ['s1', 'h1', 'h2', 's2', 'h3', 'h4'])
    assert.deepEqual(interleave(['s1'], []), ['s1'])
    assert.deepEqual(interleave([], ['h1', 'h2']), ['h1', 'h2'])
  })

  it('learns what the model cannot judge yet, then only what it misjudges or is unsure about', () => {
    const model = new BayesModel()
    const examples = interleave(Array.from({ length: 80 }, (_, i) => example(true, i)), Array.from({ length: 80 }, (_, i) => example(false, 100 + i)))
    const learned = trainOnErrors(model, examples)
    // 50 of each are needed before the model judges; the easy rest is judged right and skipped.
    assert.ok(learned.size >= 100 && learned.size < 160, `learned ${learned.size}`)
    assert.equal(model.spamMessages + model.hamMessages, learned.size)
    // A ham that shares the spam's words is misjudged, so it is learned; afterwards it is not.
    const hard = example(false, 999, ['cheap', 'offer', 'newsletter'])
    assert.equal(misjudged(model, hard), true)
    const before = classifyTokens(hard.tokens, model).probability
    const again = trainOnErrors(model, [hard])
    assert.deepEqual([...again], [0])
    assert.ok(classifyTokens(hard.tokens, model).probability < before, 'learning it moved its probability towards ham')
    assert.deepEqual([...trainOnErrors(model, [example(true, 5000)])], [], 'an easy spam is not learned')
  })

  it('learns each example at most once, however many passes', () => {
    const model = new BayesModel()
    const examples = Array.from({ length: 120 }, (_, i) => example(i % 2 === 0, i, ['shared']))
    const learned = trainOnErrors(model, examples, { margin: 0.49, maxPasses: 10 })
    assert.equal(model.spamMessages + model.hamMessages, learned.size)
    assert.ok(learned.size <= examples.length)
  })
})
