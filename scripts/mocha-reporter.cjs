// Mocha's spec output, then the one summary line CI reads: "N passed, N failed[, N skipped]".
const { reporters } = require('mocha')

class SummaryReporter extends reporters.Spec {
  constructor (runner, options) {
    super(runner, options)
    runner.once('end', () => {
      const s = runner.stats
      const skipped = s.pending > 0 ? `, ${s.pending} skipped` : ''
      process.stdout.write(`${s.passes} passed, ${s.failures} failed${skipped}\n`)
    })
  }
}

module.exports = SummaryReporter
