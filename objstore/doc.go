// Package objstore is the neutral layer under every input the SDK reads
// from object storage: the Store contract (list and open objects by key),
// a local folder as a Store (FSStore), and a durable record of the objects
// a job has processed (FileCheckpoint).
//
// It knows nothing of Currents or Amperity. Package currents reads Currents
// files from any Store, and the example programs read Amperity exports from
// one. The cloud adapters live in subpackages, so that an importer links
// only the SDK of the cloud it uses: s3store (Amazon S3), gcsstore (Google
// Cloud Storage) and azurestore (Azure Blob Storage).
package objstore
