// Validates HAR files against the HAR 1.2 schema with the har-validator package (not a test
// itself): node harvalidate.js MODULE_DIR FILE... Prints each invalid file's first errors;
// exits 1 when any file is invalid.
'use strict';
const fs = require('fs');
const validate = require(process.argv[2]);

async function main() {
    const files = process.argv.slice(3);
    let bad = 0;
    for (const file of files) {
        try {
            await validate.har(JSON.parse(fs.readFileSync(file, 'utf8')));
        } catch (e) {
            bad++;
            const errors = e.errors ? e.errors.slice(0, 3).map((x) => x.dataPath + ' ' + x.message) : [e.message];
            console.log(file + ': ' + errors.join('; '));
        }
    }
    console.log(files.length - bad + ' valid, ' + bad + ' invalid');
    process.exit(bad ? 1 : 0);
}
main();
