package parquet

import (
	"fmt"
	"math/big"
)

func fmtAny(v any) string { return fmt.Sprint(v) }

func bigInt(n int64) *big.Int { return big.NewInt(n) }
